"""NCE: negative conditional entropy of the target labels given the source classifier's hard labels.

Tran, Nguyen, Hassner. "Transferability and Hardness of Supervised Classification Tasks", ICCV 2019.

With z_i = argmax_z theta(x_i)_z, the source label a source classifier gives each target
example, and the empirical joint P(y, z) = #{i: y_i = y, z_i = z} / N (paper, eqs. 2-4):

    NCE(Y | Z) = -H(Y | Z) = sum_{y, z} P(y, z) log( P(y, z) / P(z) )
"""

import numpy as np

from benchmark import Estimator

CITATION = """@inproceedings{tran2019transferability,
  title = {Transferability and Hardness of Supervised Classification Tasks},
  author = {Tran, Anh T. and Nguyen, Cuong V. and Hassner, Tal},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  pages = {1395--1405},
  year = {2019}
}"""


class Nce(Estimator):
    """NCE (Tran et al. 2019): ``score(features, labels [N], source_probs [N, Cs])``, -H(Y|Z) <= 0 in nats."""

    name = "nce"
    description = "NCE (Tran et al. 2019): negative conditional entropy of target labels given source labels"
    citation = CITATION
    needs_source_predictions = True

    def score(self, features, labels, source_probs) -> float:
        z = np.asarray(source_probs).argmax(axis=1)  # [N] hard source labels
        joint = np.zeros((int(labels.max()) + 1, np.asarray(source_probs).shape[1]))
        np.add.at(joint, (labels, z), 1.0)
        joint /= len(labels)                          # [C, Cs] P(y, z)
        p_z = joint.sum(axis=0, keepdims=True)        # [1, Cs] P(z)
        seen = joint > 0                              # 0 log 0 = 0
        return float((joint[seen] * np.log(joint[seen] / np.broadcast_to(p_z, joint.shape)[seen])).sum())
