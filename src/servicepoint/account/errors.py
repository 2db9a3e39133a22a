from servicepoint.errors import BadRequest, Forbidden, TooManyRequests, Unauthorized


class LoginRequired(Unauthorized):
    code = "login_required"


class RoleRequired(Forbidden):
    code = "role_required"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class TooManyLogins(TooManyRequests):
    code = "too_many_login_attempts"


class InvalidUser(BadRequest):
    code = "invalid_user"
