"""Load an exported model with gensim alone and print the top words of every topic.

Usage: python experiments/show_gensim_topics.py OUT_DIR [--top N]

This is the last step of ``make demo``: it proves the export is a real gensim
``LdaModel`` (``LdaModel.load``), independent of esca.
"""

import argparse
import os

from gensim.corpora import Dictionary
from gensim.models import LdaModel


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--top", type=int, default=10)
    args = p.parse_args()
    lda = LdaModel.load(os.path.join(args.out_dir, "lda.model"))
    dictionary = Dictionary.load(os.path.join(args.out_dir, "dictionary.dict"))
    print(f"gensim LdaModel: {lda.num_topics} topics, {len(dictionary)} words "
          f"(eta = {float(lda.eta[0]):g}, alpha[0] = {float(lda.alpha[0]):g})")
    for k, words in lda.show_topics(num_topics=-1, num_words=args.top, formatted=False):
        print(f"topic {k:3d}: " + " ".join(w for w, _ in words))


if __name__ == "__main__":
    main()
