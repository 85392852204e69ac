"""``python -m exchange …``: the ``exchange`` command, for the checkout it is run from."""

from exchange.ops.cli import main

main()
