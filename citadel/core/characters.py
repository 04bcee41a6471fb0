"""Characters no text Citadel keeps may hold: NUL, which PostgreSQL's text and jsonb refuse, and
the other C0 controls but tab, newline and carriage return, which nobody types and XML (so XLSX
and DOCX) cannot hold either. Web requests holding them are refused (core.middleware); parsed
documents are stored without them (ingestion)."""

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
