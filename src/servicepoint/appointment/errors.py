from servicepoint.errors import Conflict, NotFound, TooManyRequests, Unprocessable


class SlotTaken(Conflict):
    code = "slot_taken"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class BookingCancelled(Conflict):
    code = "booking_cancelled"


class InvalidBooking(Unprocessable):
    code = "invalid_booking"


class TicketNotFound(NotFound):
    code = "ticket_not_found"


class QueueConflict(Conflict):
    code = "queue_conflict"


class BookingRateLimited(TooManyRequests):
    code = "too_many_bookings"


class ChallengeFailed(Unprocessable):
    code = "challenge_failed"
