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
    heading_path: list[str]
    text: str
    char_start: int
    char_end: int
    score: float
    dense_rank: int | None
    lexical_rank: int | None
    dense_score: float | None = None
    lexical_score: float | None = None
    document_updated_at: object = None
    extra: dict = field(default_factory=dict)


@dataclass
class LegHit:
    """One leg's (or the fusion's) ranking of a chunk, before it is described as a Hit."""

    chunk_id: int
    rank: int
    score: float
