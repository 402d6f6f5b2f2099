"""Text preprocessing figures: the whole SpamAssassin corpus (6,046 mails) tokenised once, then read back.

Side by side in one run, so the ratios hold on a busy machine (the absolute seconds do not):

  parse     the five original archives read and every mail reduced to subject + decoded body
            (``spamassassin`` provider's ``load``; MIME parts, charsets, HTML)
  tokenise  those texts through the pair's tokenizer (WordLlama's LLaMA-2 BPE, ``tokenizers``'
            ``encode_batch``) into ``[N, 2, max_tokens]`` ids + mask (``benchmark.data.text.tokenise``)
  cold      ``DatasetLoader.load`` with an empty cache: parse + tokenise + write the cache
  warm      the same call again: the tokenised tensor read back from the cache (every later run)

    .venv/bin/python bench/text_tokenise.py [--data-root ../shared/data] [--max-tokens 128] [--repeats 3]

Writes bench/results/text_tokenise.json. The fastest of ``--repeats`` is kept for each figure.
"""

import tempfile
from dataclasses import replace
from pathlib import Path

import benchlib

from benchmark.data import text
from benchmark.data.loader import DatasetLoader
from benchmark.data.providers import DatasetSpec
from benchmark.discovery.registry import discover
from benchmark.models.resolve import resolve_models
from benchmark.suite.load import load_suite

# Every set of the corpus: 2,551 + 1,400 + 250 ham, 501 + 1,396 spam (see shared/data/spamassassin/SOURCES.md).
ALL_MAIL = DatasetSpec("spamassassin", split="all", options={
    "sets": {"ham": ["easy_ham", "easy_ham_2", "hard_ham"], "spam": ["spam", "spam_2"]}})


def fastest(repeats: int, function):
    runs = [benchlib.timed(function) for _ in range(repeats)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


def main():
    arguments = benchlib.parser(__doc__)
    arguments.add_argument("--data-root", default=str(benchlib.REPO.parent / "shared" / "data"))
    arguments.add_argument("--max-tokens", type=int, default=128, help="L, as suites/spam-drift.toml (128)")
    arguments.add_argument("--repeats", type=int, default=3)
    args = arguments.parse_args()
    started_on = benchlib.machine()
    registry, root = discover(), Path(args.data_root)
    suite, models = resolve_models(load_suite(benchlib.REPO / "suites" / "spam-drift.toml"), registry, root)
    tokenizer = next(iter(models.values()))[0].tokenizer  # the WordLlama pair's PairTokenizer
    shape = replace(suite.pairs[0].input, max_tokens=args.max_tokens)

    with tempfile.TemporaryDirectory() as empty:
        loader = DatasetLoader(registry, root, Path(empty))
        provider = loader.provider(ALL_MAIL, "bench")
        parse_s, mails = fastest(args.repeats, lambda: provider.load("all", loader.root(ALL_MAIL, provider)))
        tokenise_s, packed = fastest(args.repeats, lambda: text.tokenise(list(mails.texts), tokenizer.tokenizer,
                                                                          args.max_tokens, tokenizer.pad_id))
        cold_s, warm_s = [], []
        for _ in range(args.repeats):  # a fresh cache each time: every cold load writes it anew
            with tempfile.TemporaryDirectory() as cache:
                # A new loader each time, as a later run has: nothing held in memory, only the disk cache.
                for seconds in (cold_s, warm_s):
                    loader = DatasetLoader(registry, root, Path(cache))
                    seconds.append(benchlib.timed(loader.load, ALL_MAIL, shape, "bench", tokenizer)[0])
                cache_mb = sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file()) / 2 ** 20
    tokens = int(packed[:, 1].sum())
    figures = {"mails": len(mails.texts), "max_tokens": args.max_tokens, "real_tokens": tokens,
               "truncated_share": round(float((packed[:, 1, -1] == 1).double().mean()), 3),
               "parse_s": round(parse_s, 3), "tokenise_s": round(tokenise_s, 3),
               "tokens_per_s": round(tokens / tokenise_s), "cold_s": round(min(cold_s), 3),
               "warm_s": round(min(warm_s), 4), "cold_over_warm": round(min(cold_s) / min(warm_s), 1),
               "cache_mb": round(cache_mb, 2)}
    print(f"{figures['mails']:,} mails: parse {parse_s:.2f} s, tokenise {tokenise_s:.2f} s "
          f"({figures['tokens_per_s']:,} tokens/s, {figures['truncated_share']:.0%} truncated at L = {args.max_tokens}); "
          f"cold load {figures['cold_s']:.2f} s, warm (cache) {figures['warm_s'] * 1000:.0f} ms "
          f"-> {figures['cold_over_warm']:.0f}x; cache {cache_mb:.1f} MB")
    benchlib.write("text_tokenise", figures, "bench/text_tokenise.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None), started_on)


if __name__ == "__main__":
    main()
