"""A suite's pairs as strategies see them: every dataset loaded, brought to the pair's input
and fingerprinted once per run, before any training, so missing data or a bad budget fails in
seconds."""

from dataclasses import dataclass, field

from benchmark.data.labelled import LabelledData
from benchmark.data.loader import DatasetLoader
from benchmark.models.loaded import PretrainedModel
from benchmark.scoring.tasks import ClassIndex
from benchmark.strategy.context import TaskSpec
from benchmark.suite.check import check_pool
from benchmark.suite.spec import Pair, Suite


@dataclass
class PreparedPair:
    """A pair's datasets as strategies see them, loaded once per run."""

    pair: Pair
    source: LabelledData | None  # None: the pair starts from its model's checkpoint alone
    pool: LabelledData      # labelled target examples: budgets or episodes are drawn from it
    test: LabelledData      # transfer: the target test split; episodic: the pool itself
    pool_index: ClassIndex
    fingerprints: dict
    model: PretrainedModel | None = None  # the pair's [model]; None: strategies build their own backbone
    input_origin: str = "the suite"         # where the pair's input (shape, mean, std) came from
    validation: LabelledData | None = None  # source-val: the held-out part of the source (benchmark.selection)
    overlap: dict = field(default_factory=dict)  # benchmark.data.overlap.find: allowed by the suite, else refused

    def task_spec(self, protocol_name: str, budget) -> TaskSpec:
        n_way = self.pair.ways if protocol_name == "episodic" else self.pool.num_classes
        return TaskSpec(protocol_name, self.pair.input.shape, self.source.classes if self.source else (),
                        self.pool.classes, n_way, budget, self.model.key if self.model else None,
                        self.pair.input.modality)


def prepare_pairs(suite: Suite, loader: DatasetLoader, models: dict | None = None) -> dict[str, PreparedPair]:
    """Load every pair before any training, so missing data or a bad budget fails in seconds.
    ``models``: pair name -> (PretrainedModel, input origin), from ``benchmark.models.resolve.resolve_models``."""
    models = models or {}
    for pair in suite.pairs:  # first only look for every file, so missing data fails before anything is read
        sides = {"source": pair.source, "target": pair.target} if pair.source else {"target": pair.target}
        if suite.protocol == "transfer":
            sides["target test"] = pair.target_test
        for side, spec in sides.items():
            loader.check(spec, f"{suite.path}: pair '{pair.name}' {side}")
    prepared = {}
    for pair in suite.pairs:
        where = f"{suite.path}: pair '{pair.name}'"
        model = models.get(pair.name, (None,))[0]
        tokenizer = model.tokenizer if model is not None else None  # texts: the model's own tokenizer
        source, source_fp = loader.load(pair.source, pair.input, f"{where} source", tokenizer) if pair.source \
            else (None, None)
        pool, pool_fp = loader.load(pair.target, pair.input, f"{where} target", tokenizer)
        test, test_fp = (pool, pool_fp) if suite.protocol == "episodic" else \
            loader.load(pair.target_test, pair.input, f"{where} target test", tokenizer)
        index = ClassIndex(pool)
        found = check_pool(suite, pair, source, pool, test, index)
        prepared[pair.name] = PreparedPair(pair, source, pool, test, index,
                                           {"source": source_fp, "target": pool_fp, "target_test": test_fp},
                                           *models.get(pair.name, ()), overlap=found)
    loader.release_raw()
    return prepared
