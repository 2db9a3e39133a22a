from servicepoint.errors import NotFound, Unprocessable


class EmptyMessage(Unprocessable):
    code = "invalid_input"


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class QuestionNotFound(NotFound):
    code = "question_not_found"


class ServiceMissing(Unprocessable):
    code = "service_missing"
