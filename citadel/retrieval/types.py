from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage, with enough to cite it and to explain why it was chosen."""

    chunk_id: int
    document_id: int
    version_id: int
    external_id: str
    title: str
    version: int
    page: int | None
    # "page 3", "Sheet1 rows 20-35": where the passage is, as a reader finds it ("" when unknown).
    locator: str
    heading_path: list[str]
    text: str
    char_start: int
    char_end: int
    score: float
    # A leg's rank is None when the chunk was not among its candidates; its score is still there
    # when fusion had that leg score the chunk (the lexical score is None for a chunk holding no
    # query word).
    dense_rank: int | None
    lexical_rank: int | None
    dense_score: float | None = None
    lexical_score: float | None = None
    document_updated_at: object = None
    extra: dict = field(default_factory=dict)
    # Tesseract's mean confidence when the passage's page was a scan read by OCR.
    ocr_confidence: float | None = None


@dataclass
class LegHit:
    """One leg's (or the fusion's) ranking of a chunk, before it is described as a Hit."""

    chunk_id: int
    rank: int
    score: float
