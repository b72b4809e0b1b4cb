"""Application errors: business code raises these; HTTP layers render one shape
`{"message", "code", "fields"}`."""


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message, *, code=None, fields=None, status=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = {key: [str(m) for m in msgs] for key, msgs in (fields or {}).items()}

    def as_dict(self):
        return {"message": self.message, "code": self.code, "fields": self.fields}


class ValidationFailed(ApplicationError):
    status = 422
    code = "validation_error"


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class RateLimited(ApplicationError):
    """Too many attempts: 429 with `Retry-After` seconds (the API adds the header)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after):
        super().__init__(message)
        self.retry_after = retry_after
