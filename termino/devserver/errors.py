"""The one error the embedded services raise: something a developer can read and act on."""


class ServiceError(RuntimeError):
    """A service could not be started or used; the message says what went wrong and what to do."""


class PortTakenError(ServiceError):
    """The port a service should listen on is held by a process that is not ours."""
