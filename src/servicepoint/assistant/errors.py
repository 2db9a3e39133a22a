from servicepoint.errors import NotFound, TooManyRequests, Unprocessable


class EmptyMessage(Unprocessable):
    code = "invalid_input"


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class QuestionNotFound(NotFound):
    code = "question_not_found"


class ServiceMissing(Unprocessable):
    code = "service_missing"


class InvalidCallback(Unprocessable):
    code = "invalid_callback"


class CallbackNotFound(NotFound):
    code = "callback_not_found"


class CallbackRateLimited(TooManyRequests):
    code = "rate_limited"


class AssistantRateLimited(TooManyRequests):
    code = "rate_limited"
