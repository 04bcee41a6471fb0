from citadel.ingestion.embedding import MAX_HEADER_CHARS, embedding_text


def test_a_passage_is_embedded_under_its_title_and_headings():
    """Given a passage deep in a document, when its embedding text is made, then the document's
    title and the headings above it come first, one per line, and the passage follows unchanged."""
    text = "Claims are paid within 30 days."

    made = embedding_text(title="Travel policy", heading_path=["Expenses", "Claims"], text=text)

    assert made == "Travel policy\nExpenses\nClaims\nClaims are paid within 30 days."


def test_what_the_passage_already_opens_with_is_not_repeated():
    """Given the first passage of a document, which opens with its title and its first heading,
    when its embedding text is made, then neither is added again; a title equal to the first
    heading appears once."""
    opening = "Travel policy\n\nExpenses\n\nClaims are paid within 30 days."

    assert embedding_text(title="Travel policy", heading_path=["Expenses"], text=opening) == opening
    assert embedding_text(title="Handbook", heading_path=["Handbook", "Leave"], text="Ten days.") == (
        "Handbook\nLeave\nTen days."
    )


def test_a_passage_without_title_or_headings_is_embedded_as_it_is():
    assert embedding_text(title="", heading_path=[], text="Just a paragraph.") == "Just a paragraph."


def test_a_long_header_is_cut_so_the_passage_keeps_its_room():
    """Given headings far longer than a header may be, when the embedding text is made, then the
    header is cut and the passage is kept whole."""
    made = embedding_text(title="T" * 500, heading_path=["H" * 500], text="The passage.")

    header, passage = made.rsplit("\n", 1)
    assert len(header) == MAX_HEADER_CHARS
    assert passage == "The passage."
