"""The deterministic synthetic demo marketplace behind ``simgov demo``.

:func:`generate_marketplace` writes a small fictional marketplace into a folder:

* ``items.jsonl``    listings (the ingest contract: item_id, title, description, images, seller_id,
  brand, price, currency, category, reference, attributes, plus ``listed_at`` and ``condition``);
* ``accounts.jsonl`` seller accounts (account_id, kind, display_name, handle, bio, avatar, address,
  identifiers, authorized_brands, registered_at, plus ``country``);
* ``images/``        JPEG product photos (320x320) and ``images/avatars/`` profile pictures, all
  drawn with Pillow: no font files, no network;
* ``planted.json``   the ground truth of everything planted: same-seller re-listings, cross-seller
  copies with the photo edit applied to each copy, counterfeits of brand-verified reference
  listings, authorised resellers (planted negatives), sock-puppet rings with the evidence linking
  each pair of members, decoys (look related, are not) and honest sellers of the same product.

Everything is a pure function of ``(seed, n_sellers, n_products)``: the same arguments give the
same bytes in every file (fixed JPEG qualities, no clock, no hash randomisation, sorted output).
Pictures are drawn in a small process pool; each picture depends only on its own specification,
so the number of workers never changes a byte.

All brands, people, addresses, phone numbers and bank accounts are invented. IBANs carry a valid
checksum so that parsers accept them; they belong to no bank account.

Pure library code: no printing. ``progress(done, total)`` reports pictures drawn.

The parts, by what they make: ``vocabulary`` and ``places`` (invented words, names and places),
``catalogue`` (brands, products, texts), ``people`` (accounts, rings), ``listings`` (what is
planted), ``pictures`` and ``edits`` (which picture each listing shows, how copiers alter them),
``drawing``, ``shapes`` and ``render`` (drawing the pictures), ``planted`` (the output records),
``builder`` (the plan) and ``runner`` (writing it all to a folder).
"""
from .common import GENERATOR_VERSION
from .edits import EDIT_OPS
from .runner import DemoMarketplace, generate_marketplace

__all__ = ["DemoMarketplace", "generate_marketplace", "GENERATOR_VERSION", "EDIT_OPS"]
