"""examples/vader-sentiment installed as a real package: a strategy that reads raw texts, checked by
check_strategy and run on real VADER tweets (the vader asset the setup command fetches)."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "vader-sentiment"
VADER = REPO / "data" / "vader" / "tweets_GroundTruth.csv.gz"


@pytest.fixture(scope="module")
def installed(pip_install_example):
    pytest.importorskip("vaderSentiment", reason="vaderSentiment is in the test extra: bash scripts/setup.sh")
    return pip_install_example(EXAMPLE)


def test_it_passes_the_contract_on_texts(installed, transferbench_cli):
    result = transferbench_cli(installed, "check", "vader")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


def test_it_scores_real_tweets_from_their_raw_text(installed, tmp_path, transferbench_cli):
    if not VADER.is_file():
        pytest.skip(f"the vader asset is not at {VADER.parent}: transferbench fetch vader")
    suite = tmp_path / "tweets.toml"
    suite.write_text(f'''
name = "tweets"
seeds = [0]
budgets = [1]
strategies = ["vader", "tfidf"]
input = {{ modality = "text", max_tokens = 16 }}
[model]
provider = "static-embedding"
path = "{REPO.parent / 'shared' / 'data' / 'wordllama' / 'l2_supercat_256.safetensors'}"
tokenizer = "{REPO.parent / 'shared' / 'data' / 'wordllama' / 'l2_supercat_tokenizer_config.json'}"
[[pairs]]
name = "tweets"
target = {{ provider = "vader", name = "tweets", split = "pool", test_split = "test[:25%]" }}
''')
    if not (REPO.parent / "shared" / "data" / "wordllama").is_dir():
        pytest.skip("texts are tokenised by a pair's model: needs ../shared/data/wordllama")
    result = transferbench_cli(installed, "run", str(suite), "--out", str(tmp_path), "--data-root", str(REPO / "data"),
                           "--no-progress")
    assert result.returncode == 0, result.stdout + result.stderr
    records = {r["strategy"]: r for r in map(json.loads, (tmp_path / "tweets" / "records.jsonl").open())}
    assert records["vader"]["status"] == "ok" and records["vader"]["plugin"]["dist"] == "transferbench-vader"
    # the lexicon reads whole tweets, not 16 token ids: far above one labelled tweet per class through tf-idf
    assert records["vader"]["metrics"]["accuracy"]["mean"] > 0.8
    assert records["vader"]["metrics"]["accuracy"]["mean"] > records["tfidf"]["metrics"]["accuracy"]["mean"]
