"""Problem titles in English (details and field messages are written in English where raised)."""

MESSAGES: dict[str, str] = {
    "problem.title.400": "Bad request",
    "problem.title.401": "Authentication required",
    "problem.title.403": "Forbidden",
    "problem.title.404": "Not found",
    "problem.title.405": "Method not allowed",
    "problem.title.406": "Not acceptable",
    "problem.title.409": "Conflict",
    "problem.title.410": "Gone",
    "problem.title.412": "Precondition failed",
    "problem.title.413": "Payload too large",
    "problem.title.415": "Unsupported media type",
    "problem.title.422": "Validation failed",
    "problem.title.428": "Precondition required",
    "problem.title.429": "Too many requests",
    "problem.title.500": "Internal server error",
    "problem.title.503": "Service unavailable",
}
