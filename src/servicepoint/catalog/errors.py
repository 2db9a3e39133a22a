from servicepoint.errors import BadRequest, NotFound


class ServiceNotFound(NotFound):
    code = "service_not_found"


class LocationNotFound(NotFound):
    code = "location_not_found"


class InvalidLocationData(BadRequest):
    code = "invalid_location_data"
