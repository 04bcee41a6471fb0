"""Why a version failed. Each error carries a short class (stored in DocumentVersion.error_class)
and a sentence the uploader can act on. Nothing here imports Django: the parser child process
raises these too."""


class IngestionError(Exception):
    """A permanent failure of one document: retrying the same file gives the same result."""

    error_class = "ingestion_error"
    transient = False

    def __init__(self, message: str, *, error_class: str | None = None):
        super().__init__(message)
        self.message = message
        if error_class:
            self.error_class = error_class


class UnsupportedFileType(IngestionError):
    error_class = "unsupported_type"


class FileTooLarge(IngestionError):
    error_class = "too_large"


class TooManyPages(IngestionError):
    error_class = "too_many_pages"


class TooManyRows(IngestionError):
    error_class = "too_many_rows"


class SuspectedZipBomb(IngestionError):
    error_class = "zip_bomb"


class CorruptFile(IngestionError):
    error_class = "corrupt_file"


class EmptyDocument(IngestionError):
    error_class = "empty"


class ParseLimitExceeded(IngestionError):
    """The parser ran out of time, CPU or memory in its sandbox."""

    error_class = "parse_limit"


class TransientIngestionError(IngestionError):
    """Worth retrying later: a provider timeout, a database restart."""

    error_class = "transient"
    transient = True


class LeaseLost(Exception):
    """Another attempt now owns the version (ours was presumed dead); stop without writing."""


class MissingTool(IngestionError):
    """A program the server needs for this file (Tesseract) is not installed: retry after installing."""

    error_class = "missing_tool"


class ImageTooLarge(IngestionError):
    error_class = "image_too_large"


class EmailLimitExceeded(IngestionError):
    """Parts nested too deep."""

    error_class = "email_limit"
