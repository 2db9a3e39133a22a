from servicepoint.errors import BadRequest, Forbidden, Unauthorized


class LoginRequired(Unauthorized):
    code = "login_required"


class RoleRequired(Forbidden):
    code = "role_required"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class InvalidUser(BadRequest):
    code = "invalid_user"
