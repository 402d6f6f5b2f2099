"""spamassassin: the SpamAssassin public corpus (2003-02-28 release), read from its original archives.

    { provider = "spamassassin", split = "all[:50%]",
      options = { sets = { ham = ["easy_ham"], spam = ["spam"] } } }

Files, in the data root's ``spamassassin/`` directory: ``20030228_<set>.tar.bz2`` for the sets
easy_ham (2,500 mails), easy_ham_2 (1,400), hard_ham (250), spam (500) and spam_2 (1,396),
each holding ``<set>/NNNNN.<md5>``. easy_ham_2 and spam_2 were collected later than easy_ham
and spam: old -> new collections is a real temporal drift. A mail becomes its subject plus its
decoded text body (``plugins.datasets.mail``); no other header is read. The one split is
"all"; slice it per class (``all[:50%]`` / ``all[50%:]``) for disjoint pool and test halves.
"""

from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, TextData
from plugins.datasets.text_sources import read_spamassassin, spamassassin_archive


class SpamAssassin(DatasetProvider):
    name = "spamassassin"
    description = "SpamAssassin public corpus (2003): mails as subject + body text; classes from chosen sets."
    modality = "text"
    citation = """@misc{spamassassin2003corpus,
  title = {{SpamAssassin} public mail corpus},
  author = {{The Apache SpamAssassin Project}},
  year = {2003},
  note = {20030228 release, https://spamassassin.apache.org/old/publiccorpus/}
}"""
    how_to_get = ("Put the corpus's 20030228_<set>.tar.bz2 archives (easy_ham, easy_ham_2, hard_ham, spam, spam_2) "
                  "in that directory, as downloaded from the SpamAssassin public corpus.")
    default_root = "spamassassin"

    def __init__(self, sets=None):
        self.sets = sets or {"ham": ["easy_ham"], "spam": ["spam"]}

    def chosen_sets(self) -> dict[str, list[str]]:
        if not isinstance(self.sets, dict) or not all(isinstance(v, list) and v for v in self.sets.values()):
            raise DataError('spamassassin: sets must map a class to a list of corpus sets, e.g. '
                            '{ ham = ["easy_ham"], spam = ["spam"] }')
        return self.sets

    def files(self, split, root):
        if split != "all":
            raise DataError(f"dataset 'spamassassin' has one split, 'all' (slice it, e.g. 'all[:50%]'), not '{split}'")
        return [spamassassin_archive(Path(root), name) for names in self.chosen_sets().values() for name in names]

    def load(self, split, root, size=None) -> TextData:
        self.files(split, root)
        texts, labels, classes = read_spamassassin(Path(root), self.chosen_sets())
        return TextData(tuple(texts), torch.tensor(labels, dtype=torch.long), classes, f"spamassassin:{split}")
