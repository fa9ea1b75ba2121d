"""Exception types. Every message names the document or file and says what to do next."""


class IgaError(Exception):
    """Base for errors the command line reports as a message, not a traceback."""


class ManifestError(IgaError):
    """The manifest is missing, unreadable or has an invalid entry."""


class FetchError(IgaError):
    """A document could not be fetched, or its bytes are not what the manifest claims."""

    def __init__(self, doc_id: str, message: str) -> None:
        super().__init__(f"{doc_id}: {message}")
        self.doc_id = doc_id


class NetworkUnreachable(IgaError):
    """No network route at all: reported once for the whole run, not per document."""


class ExtractError(IgaError):
    """A document's file could not be read as text (corrupt, truncated, encrypted, too slow)."""

    def __init__(self, doc_id: str, message: str) -> None:
        super().__init__(f"{doc_id}: {message}")
        self.doc_id = doc_id
