"""Title encoding throughput: sentence-transformers (torch, the baseline) vs ONNX fp32 / int8 vs static.

    .venv/bin/python -m benchmarks.title_encoding [--full]

The exact model encodes a sample (it is the slow one); the static model encodes all `n`
synthetic titles. ONNX figures appear when onnxruntime (and the onnx exporter) are installed:
the model is exported to the work folder, and int8 is onnxruntime's dynamic quantisation, with
the cosine to the torch vectors printed. The static model comes from the cache (distilled
first if missing: that time is printed separately and is not part of the throughput).
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.common import load_info, parser, report, size, synthetic_titles, timer
from simgov.config import bundled_text_model
from simgov.encoders import ExactEncoder, StaticEncoder, StaticModel


def onnx_encoders(model_dir, work):
    """(name, encode) for ONNX fp32 and int8 exports of the transformer, mean pooling, normalised."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    work.mkdir(parents=True, exist_ok=True)
    fp32, int8 = work / "minilm.onnx", work / "minilm-int8.onnx"
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if not fp32.exists():
        model = AutoModel.from_pretrained(str(model_dir)).eval()
        sample = tokenizer(["a sample title"], return_tensors="pt")
        inputs = {k: sample[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
        torch.onnx.export(model, (), str(fp32), kwargs=inputs,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["hidden"],
                          dynamic_axes={n: {0: "b", 1: "t"} for n in ("input_ids", "attention_mask", "token_type_ids",
                                                                       "hidden")},
                          opset_version=17, dynamo=False)
    if not int8.exists():
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    out = []
    for name, path in (("onnx fp32", fp32), ("onnx int8", int8)):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 0
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

        def encode(texts, session=session):
            chunks = []
            for start in range(0, len(texts), 128):
                t = tokenizer(texts[start:start + 128], padding=True, truncation=True, max_length=256,
                              return_tensors="np")
                hidden = session.run(None, {k: t[k].astype(np.int64) for k in ("input_ids", "attention_mask",
                                                                               "token_type_ids")})[0]
                mask = t["attention_mask"][..., None].astype(np.float32)
                vec = (hidden * mask).sum(1) / mask.sum(1)
                chunks.append(vec / np.linalg.norm(vec, axis=1, keepdims=True))
            return np.concatenate(chunks)
        out.append((name, encode))
    return out


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=100_000, full=1_000_000)
    ap.add_argument("--exact-sample", type=int, default=None,
                    help="titles for the exact model (default n/100, 500-5000)")
    ap.add_argument("--no-onnx", action="store_true", help="skip the ONNX figures")
    args = ap.parse_args()
    n = size(args)
    sample_n = args.exact_sample or max(500, min(5000, n // 100))
    titles = synthetic_titles(n, seed=11)
    sample = titles[:sample_n]
    print(f"{n:,} synthetic titles (mean {np.mean([len(t) for t in titles]):.0f} chars); exact model on {sample_n:,}; "
          f"{load_info()}", flush=True)

    source = bundled_text_model()
    exact = ExactEncoder(source)
    exact.encode(sample[:64])  # load and warm up
    static_enc = StaticEncoder(source)
    started = time.perf_counter()
    folder = static_enc.ensure()
    distil_s = time.perf_counter() - started
    static = StaticModel(folder)

    # baseline and the static model, interleaved twice so that load changes hit both alike
    exact_rates, static_rates = [], []
    for _ in range(2):
        with timer() as t:
            ref = exact.encode(sample)
        exact_rates.append(sample_n / t["s"])
        fresh = StaticModel(folder)  # cold chunk cache: every title's words are new to it
        with timer() as t:
            fresh.encode(titles)
        static_rates.append(n / t["s"])
    exact_rate, static_rate = max(exact_rates), max(static_rates)
    with timer() as t:
        static.encode(titles)
        static.encode(titles)
    warm_rate = 2 * n / t["s"]

    report(args, "title encoding, exact (sentence-transformers, torch CPU)", exact_rate, "titles/s")
    for name, encode in ([] if args.no_onnx else _try_onnx(source, args.work)):
        encode(sample[:64])
        with timer() as t:
            vecs = encode(sample)
        cos = float(np.mean(np.sum(vecs * ref, axis=1)))
        report(args, f"title encoding, {name}", sample_n / t["s"], "titles/s", exact_rate, "exact torch",
               note=f"mean cosine to torch vectors {cos:.4f}")
    report(args, "title encoding, static (distilled, cold word cache)", static_rate, "titles/s", exact_rate,
           "exact torch", note=f"distilled in {distil_s:.1f} s" if distil_s > 1 else "distilled model from the cache")
    report(args, "title encoding, static (warm word cache)", warm_rate, "titles/s", exact_rate, "exact torch")
    return 0


def _try_onnx(source, work):
    try:
        return onnx_encoders(source, work / "onnx")
    except Exception as exc:  # onnxruntime or the exporter missing: the figure is simply left out
        print(f"(ONNX figures skipped: {type(exc).__name__}: {str(exc)[:200]})", flush=True)
        return []


if __name__ == "__main__":
    raise SystemExit(main())
