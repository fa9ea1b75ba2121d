"""The LangChain quick-start pipeline that `bench_peer` races `iga build` against.

PyPDFLoader page by page, RecursiveCharacterTextSplitter (1,000 characters, 200 overlap),
HuggingFaceEmbeddings with the same MiniLM in fp32 (loaded from the bundled model package, as
the product does), FAISS.from_documents, save_local. Run as a process of its own so its wall
time, CPU time and memory are measured like the product's:

    python -m benchmarks.peer_pipeline --corpus ../shared/corpus --out /tmp/peer

Needs the `bench` extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


@dataclass(frozen=True)
class PeerHit:
    """A retrieved chunk where the metrics look: its document and (one) physical page."""

    doc_id: str
    first_page: int
    last_page: int


def load_chunks(corpus: Path) -> list[Any]:
    """Return the quick-start chunks of every PDF in the corpus folder, in a fixed order."""
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    pages = []
    for pdf in sorted(corpus.glob("*.pdf")):
        pages.extend(PyPDFLoader(str(pdf)).load())
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_documents(pages)


def embeddings() -> Any:
    """Return the quick-start embeddings: the bundled MiniLM through HuggingFaceEmbeddings."""
    from langchain_huggingface import HuggingFaceEmbeddings

    from ingest.tokens import resolve_model

    return HuggingFaceEmbeddings(
        model_name=resolve_model("all-MiniLM-L6-v2").location,
        model_kwargs={"device": "cpu", "local_files_only": True},
    )


def build(corpus: Path, out: Path) -> int:
    """Build and save the quick-start index of the corpus; return how many chunks it holds."""
    from langchain_community.vectorstores import FAISS

    chunks = load_chunks(corpus)
    store = FAISS.from_documents(chunks, embeddings())
    store.save_local(str(out))
    return len(chunks)


def hit_of(chunk: Any) -> PeerHit:
    """Return where a chunk lies: its PDF's stem as document id, its 1-based page."""
    page = int(chunk.metadata["page"]) + 1
    return PeerHit(doc_id=Path(chunk.metadata["source"]).stem, first_page=page, last_page=page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    print(f"peer: {build(args.corpus, args.out)} chunks")


if __name__ == "__main__":
    main()
