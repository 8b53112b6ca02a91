"""Exceptions that surfaces turn into exit codes or HTTP errors without a stack trace."""


class SimgovError(Exception):
    """A failure the user can act on; its message is one line meant for them."""

    code = "error"


class UnknownId(SimgovError):
    """An item or account id that is not in the index."""

    code = "not_found"

    def __init__(self, kind: str, ident: str):
        super().__init__(f"unknown {kind}: {ident}")
        self.kind = kind
        self.ident = ident


class UnreadableRecord(UnknownId):
    """A stored item whose record no longer reads back (stored before the input limits, or damaged):
    a read says so, and whole-catalogue work treats the item as absent instead of failing."""

    code = "unreadable_record"

    def __init__(self, ident: str):
        super().__init__("item", ident)
        self.args = (f"item {ident} is stored but its record cannot be read back; delete it or write it again",)


class IndexMismatch(SimgovError):
    """The index on disk was built with another model or format than the one configured."""

    code = "index_mismatch"


class BadInput(SimgovError):
    """A row, upload or argument that cannot be used as given."""

    code = "bad_input"


class ImageRejected(BadInput):
    """An image that cannot be fingerprinted (corrupt, unsafe path, too large, a decompression bomb)."""

    code = "bad_image"


class ImageTooLarge(ImageRejected):
    """An image over the byte or pixel limit; the API answers 413 for it."""

    code = "image_too_large"
