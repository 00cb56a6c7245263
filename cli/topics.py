"""``esca topics``: print the top words of every topic of a model."""


DESCRIPTION = """\
Print one line per topic of MODEL.h5: its number, its share of the training
tokens (n_k / N) and its top words by n_kw (the order of phi_kw).

examples:
  esca topics model.h5
  esca topics model.h5 --top 20 | grep -i music
"""


def setup_arguments(subparsers):
    """Add the ``topics`` subcommand to an argparse ``subparsers`` object."""
    import argparse
    p = subparsers.add_parser("topics", help="print the top words of every topic",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("--top", type=int, default=10, metavar="N", help="words per topic (default 10)")
    p.set_defaults(func=run)


def print_topics(model, top):
    """Print one line per topic: id, share of tokens, top words."""
    N = max(model.num_tokens, 1)
    for k in range(model.num_topics):
        words = " ".join(w for w, _ in model.top_words(k, top))
        print(f"topic {k:3d} ({100.0 * model.n_k[k] / N:5.2f}%): {words}")


def run(args):
    """Run ``esca topics`` with parsed arguments; returns the exit status (0)."""
    import esca
    from esca.errors import UserError
    if args.top < 1:
        raise UserError(f"--top must be >= 1, got {args.top}")
    model = esca.load_model(args.model)
    from esca.errors import is_placeholder_vocab
    if is_placeholder_vocab(model.vocab):
        import logging
        logging.getLogger("esca").warning(
            "%s: the words are the placeholder names x0 .. x%d (an esca.LDA fitted on a matrix "
            "without word names); name them with LDA.set_vocabulary(words) and save again",
            args.model, model.num_words - 1)
    print_topics(model, args.top)
    return 0
