"""``esca export``: write a model in another toolkit's format."""


def setup_arguments(subparsers):
    """Add the ``export`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "export", help="export a model (gensim)",
        description="Export MODEL.h5. --format gensim writes DIR/lda.model (load it with "
        "gensim.models.LdaModel.load) and DIR/dictionary.dict (gensim Dictionary).")
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("--format", choices=("gensim",), default="gensim")
    p.add_argument("--out", "-o", required=True, metavar="DIR")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca export`` with parsed arguments; returns the exit status (0)."""
    import esca
    from esca.export import export_gensim
    path = export_gensim(esca.load_model(args.model), args.out)
    print(f"wrote gensim LdaModel {path}")
    return 0
