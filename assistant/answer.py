"""Answers a question with verbatim excerpts from the best passages, each with its citation.

The recipe, no language model involved:
1. Expand the question's shorthand with the glossary; read what kind of answer it wants
   (assistant/intent.py); search the index (hybrid by default) for candidate passages.
2. Rerank the candidates by their best sentence as well as as a whole, reference lists and a
   document's front matter (cover, credits) last, and demote superseded documents below
   current ones that say nearly the same thing.
3. Judge the evidence from several signals (best passage and best sentence cosine, the share of
   the question's rarer words the evidence holds, agreement of the dense and keyword rankings,
   the share of its specialist words the index uses at all), weighted and thresholded as
   `iga eval --calibrate` chose on the development set. Too weak: the guidance does not cover
   the question, and the nearest passages are listed as such.
4. Otherwise compose the answer (assistant/compose.py): a list's items, or an excerpt of the
   best passage (its best sentence, with the one it leans on, running on into the next), the
   better-matching sentence of another passage if there is one, and at most two supporting
   sentences from other documents, each citing its passage. Every answer sentence is a
   verbatim slice of its passage.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.calibrate import answers, ruled_out
from assistant.compose import (
    RUN_ON_CHARS,
    TABLE_CAPTION,
    Composition,
    Sentence,
    compose,
    head_noun,
    headed_by,
    labelled_by,
    lead_in_score,
    leans_back,
    normalise,
    page_at,
    passage_sentences,
    quotable,
    score_sentences,
    word_count,
)
from assistant.glossary import Expansion, Glossary, load_glossary
from assistant.intent import (
    AnswerKind,
    answer_kind,
    asks_target,
    counted_noun,
    gives_asked,
    gives_target,
    kind_strength,
    list_noun,
    noun_pattern,
    parts_of,
    without_request,
)
from assistant.types import (
    Answer,
    AnswerSentence,
    Citation,
    Evidence,
    Highlight,
    Outcome,
)
from index.retrieve import SearchIndex, bm25_tokenize
from index.sentences import (
    SentenceVectors,
    SharedEmbedder,
    sentence_spans,
    sentence_store_path,
)
from index.store import served_version
from index.types import Hit, IndexedDocument, Mode, SearchFilters
from ingest.chunk import embedding_text
from ingest.errors import IgaError
from ingest.settings import Settings
from ingest.stored import cached_path, load_ingest_record, load_pages, load_record
from ingest.tokens import resolve_model
from ingest.types import DocumentFormat

# Before calibration (`iga eval --calibrate`), the evidence is judged by these weights and
# threshold: what calibration chose on the development set (assistant/question_sets/dev.yaml,
# 174 answerable and 58 out-of-scope questions: 95.4% answered, 69.0% declined there on the
# shared corpus before the figure rule, 74.1% with it, 75.9% since a figure must be in a
# sentence about the question), kept here so that an uncalibrated index still declines what it
# cannot answer.
DEFAULT_WEIGHTS = {"sentence": 1.0, "agreement": 0.1, "known": 0.2, "named": 0.3}
DEFAULT_THRESHOLD = 1.513
CANDIDATES = 20  # passages searched for and reranked
SUBHEADING_PASSAGES = 30  # passages after a heading searched for its subheadings
SUBHEADING_PROSE_WORDS = 8  # a sentence this long under a subheading: it heads prose
SUBHEADING_PROSE_AFTER = 1  # within this many sentences of it, headings aside
SUBHEADING_PAGES = 2  # pages after a heading within which its subheadings list (else: sections)
SAME_FAMILY = 6  # letters two words' stems share to be of one family (_uses)
SENTENCE_POOL = 5  # reranked passages whose sentences may answer
PASSAGE_WEIGHT = 1.0  # the bonus for a passage's rank: the answer comes from the best passage
EVIDENCE_DEPTH = 3  # reranked passages whose words count as the evidence's
MAX_EMBED = 24  # sentences embedded per question when not prepared: 2-6 ms each on 2 CPU cores
RERANK_DENSE = 0.2  # weight of a passage's dense cosine in its rerank score
RERANK_SENTENCE = 0.2  # weight of a passage's best sentence in its rerank score
RERANK_FUSED = 1.0  # weight of the fused (RRF) score, scaled to the best candidate's
NO_SENTENCE = 0.15  # a passage with no quotable sentence ranks as if its best were this far down
NEAR_EQUAL = 0.05  # a superseded passage ranks below current ones within this score
BOILERPLATE_PAGES = 3  # a sentence printed on this many pages is boilerplate, never an answer
BOILERPLATE_SCAN = 200_000  # above this many passages, boilerplate is not looked for at load
NEAREST = 3  # passages listed when the guidance does not cover the question
# A question that names documents is also searched within them, without the words that name
# them: the documents that share at least NAMED_MIN of the question, and NAMED_SHARE of the
# best-named document's share (_named_documents).
NAMED_MIN = 0.3
NAMED_SHARE = 0.5
NAME_JOINERS = {"in", "and", "&", "of", "for", "the"}  # words within a document's name
SECTION_LISTS = 3  # sections named by what a bare list question asks for, searched too
ABOUT_WORDS = 2  # of a list question's other words, those its section's heading must use
ABOUT_RANK = 5  # such a section is searched as if found at this rank
LEAD_IN_DEPTH = 10  # reranked passages whose lead-ins naming what is listed may anchor a list
HEADING_WEIGHT = 0.1  # rerank boost of a passage whose heading or lead-in names what is listed
TITLE_WEIGHT = 0.2  # rerank boost of a document the question names (by its title's words)
# For "when was it published?": a cover or imprint line (pages 1-2) with a year, and far more
# one with a full date ("24 October 2022"): what a report prints there is its publication date,
# which outranks any sentence of the body however like the question it reads.
PUBLICATION_BONUS = 0.1
DATED_COVER_BONUS = 1.0
PUBLICATION = re.compile(r"\b(?:publish\w*|publication|released?|issued|came out|dated)\b", re.I)
# Who wrote a report, who helped: its credits say, in its first pages.
AUTHORSHIP = re.compile(
    r"\b(?:who\s+(?:wrote|compiled|authored|produced|prepared)|authors?|authored|compiled|"
    r"written\s+by|contributors?|acknowledge\w*|thank\w*)\b",
    re.I,
)
FRONT_PASSAGES = 3  # a document's first passages: with nothing quotable, its cover and credits
# "When will the next survey be published?" asks of a publication to come, which no cover
# date answers.
FUTURE = re.compile(r"\b(?:will|next|upcoming|forthcoming|future)\b", re.I)
YEARS = (1900, 2100)
QUESTION_YEAR = re.compile(r"\b(?:19|20)\d\d\b")  # "the 2023 survey", "in 2019-20"
# A word used less than once per million words of everyday English (Zipf 3, by wordfreq) is a
# specialist term: "radiographer", "HSCN", "uptime"; not "biggest" or "quicker".
SPECIALIST_ZIPF = 3.0
SPECIALIST_WORD = re.compile(r"[A-Za-z]{3,}")


class Assistant:
    """A loaded index with what answering needs: glossary, page labels and cached files."""

    def __init__(self, index: SearchIndex, *, glossary: Glossary, settings: Settings) -> None:
        self.index = index
        self.glossary = glossary
        self.settings = settings
        self.labels, self.headings, self.captions = _page_facts(settings, index.meta.documents)
        self.local_files = _local_files(settings, index.meta.documents)
        self.sentences = SentenceVectors(
            index.embedder, sentence_store_path(settings.data_dir, index.embedder.info)
        )
        self.boilerplate, self._section_starts = _scan(index)
        self._sentences_of: dict[str, list[Sentence]] = {}
        self._token_lists_of: dict[str, list[str]] = {}
        self._title_tokens = {
            doc_id: set(bm25_tokenize([f"{d.entry.title} {d.entry.publisher}"])[0])
            for doc_id, d in index.meta.documents.items()
        }
        # The words of every title and publisher, and their initials ("hee", "tphc"): what a
        # question may name a document by (_naming_in).
        self._any_title_tokens: set[str] = set().union(*self._title_tokens.values())
        self._document_initials = {
            _initials(text).lower()
            for d in index.meta.documents.values()
            for text in (d.entry.title, d.entry.publisher)
        }
        self._first_rows = index.first_rows()

    @classmethod
    def load(
        cls, settings: Settings, *, glossary: Path | None = None, one_off: bool = False
    ) -> Assistant:
        """Return an assistant over the served index version, its model loaded and warmed up.

        `one_off` (`iga ask`): the light encoder (index/bert.py) and no warm-up, which pays for
        the first search and first pass through torch at load time: right for a server, time
        wasted before a single question.
        """
        _, meta = served_version(settings.index_root)
        embedder = SharedEmbedder(
            resolve_model(settings.model),
            dtype=meta.model.dtype,
            batch_size=settings.embed_batch_size,
            light=one_off,
        )
        assistant = cls(
            SearchIndex.load(settings, embedder=embedder),
            glossary=load_glossary(glossary),
            settings=settings,
        )
        if not one_off:
            assistant.index.search("warm up", k=1)
            embedder.encode_passages(["warm up", "the model"])
            _specialist_words("warm up")  # imports wordfreq before any question
        return assistant

    def with_index(self, index: SearchIndex) -> Assistant:
        """Return an assistant like this one over another loaded index (e.g. newly calibrated)."""
        return Assistant(index, glossary=self.glossary, settings=self.settings)

    def prepare_sentences(self, *, stop: threading.Event | None = None, save: bool = False) -> int:
        """Compute the vectors of every sentence in the index; return how many were new.

        save=True (the build) stores them in the data dir; serving keeps them in memory only.
        """
        texts = [
            passage.text[start:end]
            for passage in map(self.index.passage, range(self.index.size))
            for start, end in sentence_spans(passage.text)
        ]
        return self.sentences.prepare(texts, stop=stop, save=save)

    @property
    def threshold(self) -> tuple[float, str]:
        """Return the not-covered threshold and whether it was calibrated or is the default."""
        calibration = self.index.meta.calibration
        if calibration is not None:
            return calibration.threshold, "calibrated"
        return DEFAULT_THRESHOLD, "default"

    @property
    def weights(self) -> dict[str, float]:
        """Return the weights of the evidence signals the decision adds to the dense cosine."""
        calibration = self.index.meta.calibration
        return dict(calibration.weights) if calibration is not None else dict(DEFAULT_WEIGHTS)

    def check_filters(self, filters: SearchFilters) -> None:
        """Raise IgaError naming any unknown document id or publisher, or a bad year range."""
        documents = self.index.meta.documents
        publishers = {d.entry.publisher.casefold() for d in documents.values()}
        unknown_docs = [d for d in filters.doc_ids or [] if d not in documents]
        if unknown_docs:
            raise IgaError(
                f"no indexed document with id {', '.join(unknown_docs)}: "
                f"the ids are {', '.join(sorted(documents))} (see `iga status`)"
            )
        unknown = [p for p in filters.publishers or [] if p.casefold() not in publishers]
        if unknown:
            names = sorted({d.entry.publisher for d in documents.values()})
            raise IgaError(
                f"no indexed document from publisher {', '.join(unknown)}: "
                f"the publishers are {', '.join(names)}"
            )
        for name, year in (("since", filters.year_from), ("until", filters.year_to)):
            if year is not None and not YEARS[0] <= year <= YEARS[1]:
                raise IgaError(f"--{name} {year} is not a year between {YEARS[0]} and {YEARS[1]}")
        if filters.year_from and filters.year_to and filters.year_from > filters.year_to:
            raise IgaError(
                f"--since {filters.year_from} is after --until {filters.year_to}: no year is in "
                "that range; swap them"
            )

    def answer(
        self,
        question: str,
        *,
        filters: SearchFilters | None = None,
        mode: Mode | str = Mode.hybrid,
        k: int = 5,
    ) -> Answer:
        """Return the answer to a question: quoted excerpts with citations, or not covered."""
        started = time.perf_counter()
        mode = Mode(mode)
        question = question.strip()
        if not question:
            raise IgaError('the question is empty: ask something, e.g. iga ask "What is a CDC?"')
        threshold, source = self.threshold
        weights = self.weights
        filters = filters if filters and not filters.is_empty() else None

        def result(outcome: Outcome, **fields: object) -> Answer:
            return Answer(
                question=question,
                outcome=outcome,
                mode=mode,
                filters=filters,
                index_version=self.index.meta.version,
                model=self.index.meta.model.name,
                seconds=round(time.perf_counter() - started, 4),
                **fields,  # type: ignore[arg-type]
            )

        # Filters that exclude every document: say so, rather than "not covered".
        if not self.index.allows_any(filters):
            return result(
                Outcome.no_documents,
                evidence=Evidence(best_dense=None, threshold=threshold, threshold_source=source),
            )

        # Search with the shorthand expanded, then rerank by best sentence and demote superseded.
        expansion = self.glossary.expand(question)
        # BM25 gets what the question is about, not its request words ("List the...").
        expansion = expansion.model_copy(
            update={"keyword_query": without_request(expansion.keyword_query)}
        )
        kind = answer_kind(question)
        hits = self.index.search(
            expansion.dense_query,
            k=max(k, CANDIDATES),
            mode=mode,
            filters=filters,
            keyword_query=expansion.keyword_query,
        )
        query = self.index.embedder.encode_query(expansion.dense_query)
        named = self._named_documents(expansion.question)
        hits = self._merge(hits, self._within_named(expansion, named, filters, mode), query)
        # A list question that asks for nothing but its noun ("What are the key findings?",
        # "What are the conclusions of the AnalystX survey?") is judged by whether the list
        # found is headed by that noun (calibrate.ruled_in); the sections it names are
        # searched too.
        noun = list_noun(expansion.question) if kind is AnswerKind.list_ else ""
        bare = bool(noun) and self._asks_only_for(expansion.question, noun)
        sections: list[Hit] = []
        if noun and mode is Mode.hybrid:
            # (Asked about something besides its noun, "What should project management teams
            # be prioritising?", only sections whose heading names that too: "Priorities
            # for the IT programmes and project management staff group".)
            # (A bare question's words are too few to find its sections: they rank with the
            # best. Another's sections rank with the fifth, as found by the words they share.)
            fused = sorted((h.score for h in hits), reverse=True)
            about = None if bare else expansion.question
            score = fused[0] if bare else fused[min(len(fused), ABOUT_RANK) - 1]
            sections = (
                self._sections_naming(noun, named, filters, score, about=about) if fused else []
            )
            hits = self._merge(hits, sections, query)
        publication = (
            kind is AnswerKind.date
            and bool(PUBLICATION.search(question))
            and not FUTURE.search(question)
        )
        covers: list[Hit] = self._covers(hits, named, filters) if publication else []
        have = {h.passage.id for h in hits}
        hits += [
            c.model_copy(update={"rank": len(hits) + n})
            for n, c in enumerate((c for c in covers if c.passage.id not in have), start=1)
        ]
        plain = self._score(hits, expansion, query, kind)
        # (The covers' dates rank up; the not-covered signals judge the sentences as they
        # match the question, or some document's date would answer any such question.)
        cover_ids = {c.passage.id for c in covers}
        scored = [
            s.with_(score=s.score + _cover_bonus(s)) if s.hit.passage.id in cover_ids else s
            for s in plain
        ]
        if mode is Mode.hybrid:
            # (Who wrote or published a report, and when, its cover and credits say.)
            about_report = bool(PUBLICATION.search(question) or AUTHORSHIP.search(question))
            hits = _rerank(hits, scored, kind, named, noun=noun, demote_front=not about_report)
        ranked = _demote_superseded(hits)
        hits = [
            hit.model_copy(update={"rank": rank}) for rank, hit in enumerate(ranked[:k], start=1)
        ]

        # Judge the evidence.
        pool = {hit.passage.id: hit for hit in hits[:SENTENCE_POOL]}
        pooled = [s for s in scored if s.hit.passage.id in pool]
        candidates = [
            s.with_(
                hit=(hit := pool[s.hit.passage.id]),
                score=s.score + PASSAGE_WEIGHT * (1 - (hit.rank - 1) / len(pool)),
                own=s.score,
            )
            for s in pooled
        ]
        whole = parts_of(expansion.question) if kind is AnswerKind.list_ else ""
        if (noun or whole) and mode is Mode.hybrid:
            candidates += _lead_ins(ranked, len(pool), scored, noun or whole)
        # (The not-covered signals judge the sentences as scored, before the rank bonus.)
        signals, unknown, missing = self._signals(
            expansion, hits, [s for s in plain if s.hit.passage.id in pool], kind
        )
        confidence = signals.get("dense", -1.0) + sum(
            w * signals.get(name, 0.0) for name, w in weights.items()
        )
        # A date or number question's answer is composed whatever the confidence: whether it
        # gives the date or number asked for is itself evidence, and calibration must see it for
        # every question. Other answers are composed only when they will be given.
        wants_figure = kind in _WANTED
        top_named = max(named.values(), default=0.0)
        asked_of = (
            {d for d, share in named.items() if share >= max(NAMED_MIN, top_named * NAMED_SHARE)}
            if top_named >= NAMED_MIN
            else set(self.index.meta.documents)
        )
        composition = (
            compose(
                candidates,
                kind,
                self._vectors(candidates),
                neighbours=self._neighbour,
                sentences_of=self._sentences,
                subheadings=self._subheadings,
                question=expansion.question,
                names_another=lambda heading: self._names_another(heading, expansion.question),
                about=lambda text: self._on_topic(text, expansion.question),
                topic=lambda text: self._on_topic(text, expansion.question, besides=noun),
                relevance=lambda items: self._relevance(items, query),
                elsewhere=lambda sentence: sentence.hit.passage.doc_id not in asked_of,
            )
            if hits
            and (
                wants_figure
                or bool(noun)  # a list's own evidence may answer (see listed below)
                or (confidence >= threshold and not ruled_out(signals))
            )
            else None
        )
        if kind is AnswerKind.list_:
            found = composition is not None and composition.method == "list"
            listed = found and (
                headed_by(composition.sentences, noun, self._sentences)
                if bare
                # "What are the recommendations about leadership?": Recommendations 5 and 6,
                # which name leadership.
                else bool(noun)
                and self._series_on_topic(composition.sentences, expansion.question, noun)
            )
            # Without such a list, a section headed by the noun ("4. Next steps", prose)
            # answers with its opening sentences.
            opening = [] if listed or not bare else self._opening(sections, ranked)
            if opening:
                composition = Composition(sentences=opening, method="section")
            signals["listed"] = float(listed or bool(opening))
        lacking = ""  # what the answer lacks of what the question asks for
        if hits:
            # Figure: 0 when a date or number question's answer gives no date or number in a
            # sentence about the question, or a question asking for a target gets none (a
            # rule, like years: see calibrate.ruled_out).
            sentences = composition.sentences if composition else []
            if asks_target(expansion.question) and not self._gives_target(
                sentences, expansion.question
            ):
                lacking = "target"
            elif not self._gives_figure(sentences, expansion.question, kind, covers=cover_ids):
                lacking = _WANTED[kind]
            signals["figure"] = float(not lacking)
        evidence = Evidence(
            best_dense=signals.get("dense"),
            signals=signals,
            confidence=round(confidence, 4),
            weights=weights,
            threshold=threshold,
            threshold_source=source,
        )
        if not answers(signals, confidence, threshold):
            composition = None

        # Cite: the chosen sentences' passages, or the nearest passages when not covered.
        if composition and composition.sentences:
            sentences, citations = self._cite(composition.sentences)
            return result(
                Outcome.answered,
                sentences=sentences,
                citations=citations,
                hits=hits,
                expanded_terms=expansion.added,
                evidence=evidence,
                kind=kind.value,
                composition=composition.method,
            )
        return result(
            Outcome.not_covered,
            reason=_reason(
                expansion.question,
                unknown,
                missing,
                wanted=lacking,
            ),
            citations=[self._citation(n, hit, []) for n, hit in enumerate(hits[:NEAREST], 1)],
            hits=hits,
            expanded_terms=expansion.added,
            evidence=evidence,
            kind=kind.value,
        )

    def _sentences(self, hit: Hit) -> list[Sentence]:
        """Return a passage's sentences with their roles (kept per passage: they do not change)."""
        found = self._sentences_of.get(hit.passage.id)
        if found is None:
            found = passage_sentences(hit, boilerplate=self.boilerplate)
            if len(self._sentences_of) > 20_000:
                self._sentences_of.clear()
            self._sentences_of[hit.passage.id] = found
        return found

    def _subheadings(self, heading: Sentence) -> list[Sentence]:
        """Return the headings one level below a heading, up to the next heading of its level
        or above, each as it stands in the passages after it ("Priorities for the health
        records staff group" and the four priorities, each a heading over its paragraphs).
        Levels come from the type (ingest/clean.py). The list ends before the first child
        with no prose under it. [] when fewer than two remain."""
        passage = heading.hit.passage
        headings = self.headings.get(passage.doc_id, [])
        words, page = normalise(heading.text), page_at(passage, heading.start)
        matching = [i for i, (_, _, text) in enumerate(headings) if text == words]
        if not matching:
            return []
        at = min(matching, key=lambda i: abs(headings[i][0] - page))
        level = headings[at][1]
        children: list[tuple[int, str]] = []
        for child_page, child_level, text in headings[at + 1 :]:
            if child_level <= level:
                break
            if child_level == level + 1:
                children.append((child_page, text))
        if len(children) < 2:
            return []
        # A heading whose sections run on for pages heads a chapter ("4. Background and
        # conceptual framework", pp. 35-40), not a list: its subheadings are not items.
        if children[-1][0] - page > SUBHEADING_PAGES:
            return []

        # Each child's line, in the passages from the heading's on. The list ends at a child
        # that heads no prose: bold table header cells ("Job role", "Skills", each over
        # "- link") detected as headings after the last real one.
        # (Prose: a sentence of SUBHEADING_PROSE_WORDS or more, within SUBHEADING_PROSE_AFTER
        # sentences of the child, not counting headings: a sub-subheading may come first.)
        titles = {text for _, _, text in headings}
        found: list[Sentence] = []
        heads_prose: list[bool] = []
        after = 0  # sentences seen since the last child found
        for sentence in self._sentences_from(heading.hit, SUBHEADING_PASSAGES):
            if found and not heads_prose[-1] and after >= SUBHEADING_PROSE_AFTER:
                break  # the last child found heads no prose
            if len(found) == len(children) and heads_prose[-1]:
                break
            words = normalise(sentence.text)
            child = children[len(found)] if len(found) < len(children) else None
            if (
                child
                and words == child[1]
                and page_at(sentence.hit.passage, sentence.start) == child[0]
            ):
                if found and not heads_prose[-1]:
                    break  # the previous child heads no prose
                found.append(sentence)
                heads_prose.append(False)
                after = 0
            elif found and words not in titles:  # sub-subheadings aside
                after += 1
                heads_prose[-1] |= word_count(sentence.text) >= SUBHEADING_PROSE_WORDS
        kept = heads_prose.index(False) if False in heads_prose else len(found)
        return found[:kept] if kept >= 2 else []

    def _names_another(self, heading: Sentence, question: str) -> bool:
        """Return True when a heading is one of a family ("Priorities for the knowledge
        management staff group - 2020 to 2030", "... the information management ...") and
        the question names a sibling's subject, not this one's: its list answers another
        question than the one asked."""
        words = _unnumbered(normalise(heading.text))
        asked = self._tokens([question])[0]
        doc_id = heading.hit.passage.doc_id
        family = [text for _, _, text in self.headings.get(doc_id, [])]
        for text in family + self.captions.get(doc_id, []):
            other = _unnumbered(text)
            prefix = _shared_start(words, other)
            suffix = _shared_start(words[prefix:][::-1], other[prefix:][::-1])
            if other == words or prefix + suffix < max(2, len(words) / 2):
                continue  # not a sibling: too little in common
            mine, theirs = self._tokens(
                [
                    " ".join(words[prefix : len(words) - suffix]),
                    " ".join(other[prefix : len(other) - suffix]),
                ]
            )
            if mine and theirs and theirs <= asked and not mine <= asked:
                return True
        return False

    def _sentences_from(self, hit: Hit | None, passages: int) -> Iterator[Sentence]:
        """Yield the sentences of a hit's passage and of up to `passages` - 1 after it."""
        for _ in range(passages):
            if hit is None:
                return
            yield from self._sentences(hit)
            hit = self._neighbour(hit, 1)

    def _neighbour(self, hit: Hit, step: int) -> Hit | None:
        """Return the passage next to a hit's in its document (step 1: after, -1: before)."""
        row = hit.row + step
        if hit.row < 0 or not 0 <= row < self.index.size:
            return None
        found = self.index.hit_at(row)
        return found if found.passage.doc_id == hit.passage.doc_id else None

    def _relevance(self, sentences: list[Sentence], query: np.ndarray) -> list[float]:
        """Return each sentence's cosine to the question (embedded now when not prepared)."""
        vectors = self._vectors(sentences)
        unknown = [s.raw for s in sentences if s.raw not in vectors]
        if unknown:
            vectors.update(self.sentences.embed(unknown[:MAX_EMBED]))
        return [float(vectors[s.raw] @ query) if s.raw in vectors else -1.0 for s in sentences]

    def _vectors(self, sentences: list[Sentence]) -> dict[str, np.ndarray]:
        return self.sentences.known([s.raw for s in sentences])

    def _tokens(self, texts: list[str]) -> list[frozenset[str]]:
        """Return each text's set of BM25 tokens."""
        return [frozenset(tokens) for tokens in self._token_lists(texts)]

    def _token_lists(self, texts: list[str]) -> list[list[str]]:
        """Return each text's BM25 tokens in order, kept once computed (sentences recur across
        questions)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._token_lists_of]
        if missing:
            if len(self._token_lists_of) > 200_000:
                self._token_lists_of.clear()
            for text, tokens in zip(missing, bm25_tokenize(missing), strict=True):
                self._token_lists_of[text] = list(tokens)
        return [self._token_lists_of[t] for t in texts]

    def _idf(self, tokens: list[str]) -> dict[str, float]:
        """Return the BM25 inverse document frequency of each token in the index's passages."""
        size = self.index.size
        return {
            t: math.log(1 + (size - f + 0.5) / (f + 0.5))
            for t, f in self.index.document_frequencies(tokens).items()
        }

    def _gives_figure(
        self,
        sentences: Sequence[Sentence],
        question: str,
        kind: AnswerKind,
        *,
        covers: Collection[str] = (),
    ) -> bool:
        """Return whether an answer gives the date or number its question asks for
        (intent.gives_asked), in a sentence about the question: one that uses a word of it
        (a cover's date is about its document). "240 1098 10% 4 commission support units
        responded..." does not say how many virtual ward beds there are; and for "how many
        <things>", one whose passage names those things (or a word of their family; a table
        row's count is named by its header): "around 13,025 data professionals" does not say
        how many nurses left. True for questions of other kinds."""
        if kind not in _WANTED:
            return True
        counted = counted_noun(question) if kind is AnswerKind.number else ""
        text = " ".join(
            s.text
            for s in sentences
            if s.hit.passage.id in covers
            or (
                self._on_topic(s.text, question)
                and (not counted or self._names(s.hit.passage.text, counted))
            )
        )
        return gives_asked(text, question, kind)

    def _gives_target(self, sentences: Sequence[Sentence], question: str) -> bool:
        """Return whether an answer to a question asking for a target sets one (intent.
        gives_target) in a sentence about the question."""
        return gives_target(" ".join(s.text for s in sentences if self._on_topic(s.text, question)))

    def _names(self, text: str, word: str) -> bool:
        """Return whether a text uses a word or one of its family (_uses)."""
        return any(self._uses(text, token) for token in self._tokens([word])[0])

    def _on_topic(self, text: str, question: str, *, besides: str = "") -> bool:
        """Return whether a sentence uses one of the question's words (_asked_words), or a
        word of the same family: True when the question has no such word, or only a verb
        saying something happened ("When did the survey run?")."""
        asked = self._asked_words(question, besides=besides)
        if not asked - _EVENT_WORDS:
            return True
        return any(self._uses(text, word) for word in asked)

    def _asked_words(self, question: str, *, besides: str = "") -> set[str]:
        """Return the question's tokens other than those that may name a document (words of
        some titles and publishers) or ask for any list ("key", "main").

        Given `besides` (what a list question lists), the words of its family are left out
        too, and of the words that may name a document only those that do: a name's words
        ("...of the Data Driven Healthcare 2030 report?") and initials ("HEE"); "education"
        in "...recommendations on education?" is what is asked, though a publisher is Health
        Education England."""
        asked = set(self._tokens([question])[0]) - _ASKING - _BARE_WORDS
        asked -= self._naming_in(question) if besides else self._naming_words(asked)
        if besides:
            family = {t[:SAME_FAMILY] for t in self._tokens([besides])[0]}
            asked = {t for t in asked if t[:SAME_FAMILY] not in family}
        return asked

    def _uses(self, text: str, word: str) -> bool:
        """Return whether a text uses a token, or one of its family: "librarians" for
        "library" ("librarian", "librari": the stemmer leaves them apart), "employ" for
        "employment"."""
        stem = word[:SAME_FAMILY] if len(word) >= SAME_FAMILY else None
        return any(
            t == word or (stem is not None and len(t) >= SAME_FAMILY and t[:SAME_FAMILY] == stem)
            for t in self._tokens([text])[0]
        )

    def _series_on_topic(self, sentences: Sequence[Sentence], question: str, noun: str) -> bool:
        """Return whether an answer is a series labelled by what the question lists
        ("Recommendation 5:", "Recommendation 6:"), whose items use every word the question
        asks about besides ("...about leadership?"): the series says what they are, and the
        words what they are about."""
        asked = self._asked_words(question, besides=noun) - _EVENT_WORDS
        return (
            bool(asked)
            and bool(sentences)
            and labelled_by(sentences, noun)
            and all(any(self._uses(s.text, word) for s in sentences) for word in asked)
        )

    def _named_documents(self, question: str) -> dict[str, float]:
        """Return, per document the question names, how much of the question names it: the
        rarity-weighted share of the question's words that are distinctive words of its title."""
        asked = list(dict.fromkeys(bm25_tokenize([question])[0]))
        if not asked:
            return {}
        titles = self._title_tokens
        distinctive = self._naming_words(asked)
        idf = self._idf(asked)
        total = sum(idf.values()) or 1.0
        named = {
            doc_id: sum(idf[t] for t in distinctive & words) / total
            for doc_id, words in titles.items()
        }
        return {doc_id: share for doc_id, share in named.items() if share > 0}

    def _within_named(
        self,
        expansion: Expansion,
        named: dict[str, float],
        filters: SearchFilters | None,
        mode: Mode,
    ) -> list[Hit]:
        """Return the best passages of the documents a question names for the question without
        the words that name them: those words match every passage of the document, its title
        page best, and drown the words that say what is asked ("What are the recommendations
        of the Data Driven Healthcare 2030 report?")."""
        if not named:
            return []
        top = max(named.values())
        docs = [d for d, share in named.items() if share >= max(NAMED_MIN, top * NAMED_SHARE)]
        if filters is not None and filters.doc_ids:
            docs = [d for d in docs if d in filters.doc_ids]
        asked = self._token_lists([expansion.question])[0]
        naming = self._naming_words(asked)
        naming &= {t for w in _name_words(expansion.question, naming) for t in w}
        if not docs or not naming or not set(asked) - naming:
            return []
        within = (filters or SearchFilters()).model_copy(update={"doc_ids": docs})
        return self.index.search(
            _without(expansion.dense_query, naming),
            k=CANDIDATES,
            mode=mode,
            filters=within,
            keyword_query=_without(expansion.keyword_query, naming),
        )

    def _sections_naming(
        self,
        noun: str,
        named: dict[str, float],
        filters: SearchFilters | None,
        score: float,
        *,
        about: str | None = None,
    ) -> list[Hit]:
        """Return the first passages of the sections whose heading names what a bare list
        question asks for ("Conclusion", "3. Recommendations"), in the documents it names if
        any, scored `score`: its words are too few for either retriever to find them.

        Given the question (`about`) of a list question that asks about more than its noun,
        only the headings that also use the most of its other words, ABOUT_WORDS at least: a
        report's "Priorities for the <staff group>" sections, one per chapter, are told apart
        by the staff group asked about."""
        names = noun_pattern(noun)
        # (A document the filters exclude is no restriction: "findings", a word of one title,
        # does not name that document within another.)
        docs = {
            d
            for d in named
            if d in self._first_rows and self.index.allows_row(self._first_rows[d], filters)
        }
        starts = [
            (head, row)
            for doc_id, head, row in self._section_starts
            if names.search(head)
            and (not docs or doc_id in docs)
            and self.index.allows_row(row, filters)
        ]
        if about is not None:
            asked = self._asked_words(about, besides=noun)
            # (The head noun names the list; the whole heading says what it is about.)
            headings = {row: self.index.passage(row).section or head for head, row in starts}
            shared = {row: sum(self._uses(headings[row], w) for w in asked) for _, row in starts}
            most = max(shared.values(), default=0)
            starts = [(head, row) for head, row in starts if shared[row] == most >= ABOUT_WORDS]
        rows = [row for _, row in starts]
        return [
            self.index.hit_at(row).model_copy(update={"score": score})
            for row in rows[:SECTION_LISTS]
        ]

    def _opening(self, sections: list[Hit], ranked: list[Hit]) -> list[Sentence]:
        """Return the opening prose sentences of the best-ranked of these sections (up to
        RUN_ON_CHARS), or [] when it opens with none."""
        order = {h.passage.id: n for n, h in enumerate(ranked)}
        for hit in sorted(sections, key=lambda h: order.get(h.passage.id, len(order))):
            opening: list[Sentence] = []
            for sentence in self._sentences(hit):
                if sentence.role == "item" or (opening and sentence.role != "prose"):
                    break
                if not quotable(sentence, AnswerKind.fact):
                    continue
                if sum(len(s.text) for s in [*opening, sentence]) > RUN_ON_CHARS and opening:
                    break
                opening.append(sentence)
            if opening:
                return opening
        return []

    def _merge(self, hits: list[Hit], more: list[Hit], query: np.ndarray) -> list[Hit]:
        """Return the hits with more passages added after them (a passage found twice keeps its
        better fused score), every dense score against the whole question."""
        at = {h.passage.id: n for n, h in enumerate(hits)}
        merged = list(hits)
        for hit in more:
            n = at.get(hit.passage.id)
            if n is not None:
                if hit.score > merged[n].score:
                    merged[n] = merged[n].model_copy(update={"score": hit.score})
                continue
            dense = float(np.dot(self.index.dense.reconstruct(hit.row), query))
            merged.append(hit.model_copy(update={"dense_score": dense, "rank": len(merged) + 1}))
        return merged

    def _asks_only_for(self, question: str, noun: str) -> bool:
        """Return whether a list question's words are only its noun, words that name a
        document, and words any list question may use ("key", "main", "the report")."""
        asked = set(self._token_lists([question])[0])
        nouns = {t[:SAME_FAMILY] for t in bm25_tokenize([noun])[0]}
        rest = asked - self._naming_words(asked) - _BARE_WORDS - _ASKING
        # (The verb asks for its noun: "conclude" for "conclusion", stems "conclud", "conclus".)
        return bool(asked) and all(t[:SAME_FAMILY] in nouns for t in rest)

    def _naming_in(self, question: str) -> set[str]:
        """Return the tokens of a question's words that name a document: the runs of title
        words a name is made of (_name_words), and titles' and publishers' initials ("HEE")."""
        naming = {t for words in _name_words(question, self._any_title_tokens) for t in words}
        for word in re.findall(r"[A-Za-z]+", re.sub(r"['’]s\b", "", question)):
            if word.isupper() and word.lower() in self._document_initials:
                naming.update(self._tokens([word])[0])
        return naming

    def _naming_words(self, tokens: Iterable[str]) -> set[str]:
        """Return the tokens that name documents: words of some, but at most half, of the
        indexed titles."""
        titles = self._title_tokens
        return {
            t for t in tokens if 0 < sum(t in words for words in titles.values()) * 2 <= len(titles)
        }

    def _covers(
        self, hits: list[Hit], named: dict[str, float], filters: SearchFilters | None
    ) -> list[Hit]:
        """Return the first passage (the cover) of each document the question names, or else
        of the best hit's document: where a report prints when it was published."""
        docs = sorted(named, key=lambda d: -named[d]) or [h.passage.doc_id for h in hits[:1]]
        rows = [self._first_rows.get(doc_id) for doc_id in docs[:2]]
        return [
            self.index.hit_at(row)
            for row in rows
            if row is not None and self.index.allows_row(row, filters)
        ]

    def _score(
        self,
        hits: list[Hit],
        expansion: Expansion,
        query: np.ndarray,
        kind: AnswerKind,
    ) -> list[Sentence]:
        """Return the sentences of the candidate passages, scored against the question."""
        sentences = [s for hit in hits for s in self._sentences(hit)]
        if not sentences:
            return []

        # Keyword overlap: the share of the question's words a sentence has (or their
        # expansions), each word weighted by its rarity, so "Bardsley" counts more than "NHS".
        asked = set(bm25_tokenize([without_request(expansion.question)])[0])
        wanted = set(bm25_tokenize([expansion.keyword_query])[0]) | asked
        # The words that name a document ("the AnalystX survey") pick the document (the rerank
        # weighs them: TITLE_WEIGHT), not the sentence within it that answers.
        naming = self._naming_words(asked)
        if asked - naming:
            asked -= naming
            wanted -= naming
        idf = self._idf(sorted(wanted))
        total = sum(idf[t] for t in asked) or 1.0
        tokens = self._tokens([s.raw for s in sentences])
        # A sentence that leans on the one before ("He estimated...", "places on this
        # programme") has that one's words too: the answer quotes both (compose).
        in_context = [
            t_ | tokens[i - 1] if i and sentences[i - 1].hit is s.hit and leans_back(s.text) else t_
            for i, (s, t_) in enumerate(zip(sentences, tokens, strict=True))
        ]
        overlap = {
            s.raw: min(1.0, sum(idf[t] for t in wanted.intersection(t_)) / total)
            for s, t_ in zip(sentences, in_context, strict=True)
        }

        # Vectors: those prepared at build time, and a few more, picked by overlap, embedded now.
        vectors = self.sentences.known([s.raw for s in sentences])
        unknown = sorted(
            (s for s in sentences if s.raw not in vectors and quotable(s, kind)),
            key=lambda s: (-overlap[s.raw], s.hit.rank),
        )
        if unknown:
            vectors.update(self.sentences.embed([s.raw for s in unknown[:MAX_EMBED]]))
        scored = score_sentences(sentences, vectors, query, overlap, kind)
        return scored

    def _signals(
        self, expansion: Expansion, hits: list[Hit], candidates: list[Sentence], kind: AnswerKind
    ) -> tuple[dict[str, float], list[str], list[str]]:
        """Return the evidence signals the not-covered decision weighs (see Evidence.signals),
        with what the not-covered message names: the question's specialist words that no
        indexed passage uses, and the years and names (quoted) the evidence never mentions."""
        specialist = _specialist_words(expansion.question)
        unknown = [word for word in specialist if not self._in_index(word)]
        missing = _missing_years(expansion.question, hits)
        if not hits:
            return {}, unknown, missing
        dense = max((h.dense_score for h in hits if h.dense_score is not None), default=-1.0)
        best = max((s.score for s in candidates if quotable(s, kind)), default=dense - NO_SENTENCE)

        # Coverage: the question's words, weighted by rarity (IDF), found in the evidence.
        asked = list(dict.fromkeys(bm25_tokenize([without_request(expansion.question)])[0]))
        found: set[str] = set().union(
            *self._tokens(
                [
                    f"{hit.document.entry.title}\n{embedding_text(hit.passage)}"
                    for hit in hits[:EVIDENCE_DEPTH]
                ]
            )
        )
        weights = self._idf(asked)
        total = sum(weights.values())
        coverage = sum(w for t, w in weights.items() if t in found) / total if total else 0.0

        # Named: the share of what the question names ("HSCN", "Microsoft", "the AI Lab",
        # "18-week") that the evidence mentions, in its passages, titles or publishers. A near
        # miss is often a question about a named thing next to what the guidance covers.
        names = _names(expansion.question)
        unnamed = self._unnamed(names, hits)
        named = 1 - len(unnamed) / len(names) if names else 1.0

        # Known terms: the share of the question's specialist words (rare in everyday English)
        # that some indexed passage uses, or, for an abbreviation, all of one of its meanings'
        # words. "uptime", "HIMSS", "FHIR": a question that hinges on a term no indexed
        # document uses asks about something the guidance does not cover.
        known = 1 - len(unknown) / len(specialist) if specialist else 1.0

        # Years: the share of the years the question names ("the 2023 survey") that the evidence
        # mentions, in its passages, titles or publication dates. Below 1 the question is not
        # covered, whatever the other signals say: guidance of 2022 does not say what a survey of
        # 2023 found. (A rule, not a weighted signal: on the development set it caught one near
        # miss and no answerable question; in the calibration grid it moved the other weights.)
        named_years = set(QUESTION_YEAR.findall(expansion.question))
        years = 1 - len(missing) / len(named_years) if named_years else 1.0

        # Agreement: how many of the top five passages both retrievers ranked in their top five.
        top = hits[:5]
        agreement = sum((h.dense_rank or 99) <= 5 and (h.bm25_rank or 99) <= 5 for h in top) / max(
            1, len(top)
        )
        signals = {
            "dense": round(dense, 4),
            "sentence": round(best, 4),
            "coverage": round(coverage, 4),
            "agreement": round(agreement, 4),
            "known": round(known, 4),
            "named": round(named, 4),
            "years": round(years, 4),
        }
        # (The message names each gap once: a word no passage uses is not also unmentioned.)
        unknown_words = set(unknown)
        unmentioned = [f"“{n}”" for n in unnamed if n.casefold() not in unknown_words]
        return signals, unknown, [*missing, *unmentioned]

    def _unnamed(self, names: list[str], hits: list[Hit]) -> list[str]:
        """Return the names of a question (`_names`) that the evidence never mentions: the top
        EVIDENCE_DEPTH passages, their documents' titles and publishers. A name is mentioned
        when its words stand together in one of them, as the question puts them ("Long Term
        Workforce Plan", not "long-term plan ... workforce"); an abbreviation of the glossary
        also when one of its meanings does."""
        if not names or not hits:
            return []
        texts = [
            text
            for h in hits[:EVIDENCE_DEPTH]
            for text in (h.document.entry.title, h.document.entry.publisher, h.passage.text)
        ]
        joined = [f" {_singular(tokens)} " for tokens in self._token_lists(texts)]
        # "TPHC" names the publisher "Transformation Partners in Health and Care".
        initials = {
            _initials(text)
            for h in hits[:EVIDENCE_DEPTH]
            for text in (h.document.entry.title, h.document.entry.publisher)
        }

        def mentioned(name: str) -> bool:
            if name.isupper() and name in initials:
                return True
            return any(
                s and any(f" {_singular(s)} " in text for text in joined)
                for s in self._spellings(name)
            )

        return [name for name in names if not mentioned(name)]

    def _spellings(self, word: str) -> list[list[str]]:
        """Return a word's BM25 tokens, then those of each of its glossary meanings."""
        spellings = [bm25_tokenize([word])[0]]
        return spellings + [bm25_tokenize([m])[0] for m in self.glossary.meanings_of(word)]

    def _in_index(self, word: str) -> bool:
        """Return whether an indexed passage uses a word, or every word of one of its meanings
        when it is an abbreviation the glossary spells out."""
        spellings = self._spellings(word)
        frequencies = self.index.document_frequencies([t for s in spellings for t in s])
        return any(s and all(frequencies[t] for t in s) for s in spellings)

    def _cite(self, chosen: list[Sentence]) -> tuple[list[AnswerSentence], list[Citation]]:
        """Return the answer sentences and one citation per passage, numbered in answer order."""
        numbers: dict[str, int] = {}
        quoted: dict[str, list[Sentence]] = {}
        sentences = []
        for sentence in chosen:
            passage_id = sentence.hit.passage.id
            number = numbers.setdefault(passage_id, len(numbers) + 1)
            quoted.setdefault(passage_id, []).append(sentence)
            sentences.append(AnswerSentence(text=sentence.text, citations=[number]))
        citations = [
            self._citation(numbers[pid], group[0].hit, [(s.start, s.end) for s in group])
            for pid, group in quoted.items()
        ]
        return sentences, citations

    def _citation(self, number: int, hit: Hit, spans: list[tuple[int, int]]) -> Citation:
        """Return the citation of a passage, located at the pages of the quoted spans."""
        passage, document = hit.passage, hit.document
        entry = document.entry
        if spans:
            pages = sorted(
                {page_at(passage, offset) for start, end in spans for offset in (start, end - 1)}
            )
        else:
            pages = sorted({span.page for span in passage.spans})
        labels = self.labels.get(passage.doc_id, {})
        first = pages[0]
        is_pdf = entry.format is DocumentFormat.pdf
        anchor = f"#page={first}" if is_pdf else ""
        return Citation(
            number=number,
            passage_id=passage.id,
            doc_id=passage.doc_id,
            title=entry.title,
            publisher=entry.publisher,
            published=entry.published,
            pages=pages,
            page_labels=[labels.get(page) for page in pages],
            section=passage.section,
            text=passage.text,
            highlights=[Highlight(start=s, end=e) for s, e in spans],
            url=f"{document.official_url}{anchor}" if document.official_url else None,
            local_url=f"/doc/{passage.doc_id}{anchor}"
            if passage.doc_id in self.local_files
            else None,
            sha256=document.sha256,
            superseded_by=self.replacement(document),
        )

    def replacement(self, document: IndexedDocument) -> str | None:
        """Return what supersedes a document: the indexed successor's title, or the manifest text."""
        successor = document.entry.superseded_by
        if successor and successor in self.index.meta.documents:
            entry = self.index.meta.documents[successor].entry
            return f"{entry.title} ({entry.published:%B %Y})"
        return successor


# Words a question for a whole list may use besides its noun: "What are the key findings of
# the report?", "List the main recommendations in this document".
_BARE_WORDS = frozenset(
    bm25_tokenize(
        [
            "what which tell me key main principal major overall all list name give set out next "
            "made make report about regarding "
            "document paper review survey summary guidance guide strategy plan"
        ]
    )[0]
)


# Verbs that say only that something happened, when a date question asks when: "When did
# the AnalystX survey run?" is about the survey, which its report says everywhere.
_EVENT_WORDS = frozenset(
    bm25_tokenize(
        [
            "run ran take took place carry carried happen start started begin began open "
            "close end launch conduct undertake hold held"
        ]
    )[0]
)


def _rerank(
    hits: list[Hit],
    scored: list[Sentence],
    kind: AnswerKind,
    named: dict[str, float],
    *,
    noun: str = "",
    demote_front: bool = False,
) -> list[Hit]:
    """Return the candidates ordered by their dense cosine plus their best sentence's score
    (a passage with no quotable sentence, such as a title page, counts NO_SENTENCE lower),
    plus a boost for the documents the question names and, for a list question listing
    `noun`, for passages whose heading or a lead-in names it. Reference lists rank last, and
    so does a document's front matter when `demote_front`: its first FRONT_PASSAGES passages
    that hold nothing quotable, neither prose nor a list's item (the cover, the credits),
    which match a question that names the document by its title and say nothing of what it
    asks."""
    best: dict[str, float] = {}
    for sentence in scored:
        if quotable(sentence, kind):
            pid = sentence.hit.passage.id
            best[pid] = max(best.get(pid, -1.0), sentence.score)
    top_fused = max((h.score for h in hits), default=1.0) or 1.0
    heads = noun_pattern(noun) if noun else None
    # Passages whose heading, or a line leading into a list ("The key findings from this
    # survey are:"), names what a list question lists.
    listing = (
        {h.passage.id for h in hits if heads.search(head_noun(h.passage.section or ""))}
        | {s.hit.passage.id for s in scored if s.role == "lead-in" and heads.search(s.text)}
        if heads
        else set()
    )

    def key(hit: Hit) -> float:
        dense = hit.dense_score if hit.dense_score is not None else -1.0
        sentence = best.get(hit.passage.id, dense - NO_SENTENCE)
        return (
            RERANK_DENSE * dense
            + RERANK_SENTENCE * sentence
            + RERANK_FUSED * hit.score / top_fused
            + TITLE_WEIGHT * named.get(hit.passage.doc_id, 0.0)
            + (HEADING_WEIGHT if hit.passage.id in listing else 0.0)
        )

    says = {s.hit.passage.id for s in scored if quotable(s, AnswerKind.fact)}

    def front_matter(hit: Hit) -> bool:
        return demote_front and hit.passage.ordinal < FRONT_PASSAGES and hit.passage.id not in says

    return sorted(hits, key=lambda h: (_reference_list(h) or front_matter(h), -key(h), h.rank))


REFERENCE_LIST = re.compile(r"^\W*(?:\d+\W*)?(?:references|bibliography|endnotes)\b", re.I)


def _lead_ins(
    ranked: list[Hit], answering: int, scored: list[Sentence], noun: str
) -> list[Sentence]:
    """Return the lead-ins of the reranked passages after the `answering` ones, down to
    LEAD_IN_DEPTH, that name what a list question lists ("The key findings from this survey
    are:" to "What are the key findings...?"), each ranked as its passage: they may lead to the
    list, judged by their own score like every list anchor, though their passage's other
    sentences do not answer."""
    names = noun_pattern(noun)
    at = {
        hit.passage.id: hit.model_copy(update={"rank": rank})
        for rank, hit in enumerate(ranked[answering:LEAD_IN_DEPTH], start=answering + 1)
    }
    # A lead-in leans on the prose sentence before it ("An Excel-based toolkit was developed...
    # The toolkit comprised:"), as in compose._best_list.
    leaning = lead_in_score([s for s in scored if s.hit.passage.id in at])
    return [
        s.with_(hit=at[s.hit.passage.id], own=leaning(s))
        for s in scored
        if s.hit.passage.id in at and s.role == "lead-in" and names.search(s.text)
    ]


def _name_words(question: str, naming: set[str]) -> list[list[str]]:
    """Return the BM25 tokens of the words of a question that name a document.

    A name is a run of title words (small words such as "in" may join them): those that are
    capitalised or numbers, and the lower-case ones after them when there are at least two
    ("the Data Driven Healthcare in 2030 summary and recommendations"). One lower-case title
    word after a name is what the question asks of it ("...the Imaging Workforce Review
    recommend?"), and so is a title word before one ("the recommendations of the Data Driven
    Healthcare 2030 report")."""
    words = question.split()
    names: list[list[str]] = []
    run: list[tuple[bool, list[str]]] = []  # (capitalised, tokens) of each title word

    def close() -> None:
        first = next((n for n, (capital, _) in enumerate(run) if capital), len(run))
        after = [tokens for capital, tokens in run[first:] if not capital]
        names.extend(tokens for capital, tokens in run[first:] if capital or len(after) >= 2)
        run.clear()

    for n, (word, tokens) in enumerate(zip(words, bm25_tokenize(words), strict=True)):
        if set(tokens) & naming:
            run.append((n > 0 and (word[:1].isupper() or any(c.isdigit() for c in word)), tokens))
        elif word.lower() not in NAME_JOINERS:
            close()
    close()
    return names


def _without(text: str, tokens: set[str]) -> str:
    """Return a text without the words whose BM25 token is one of these."""
    words = text.split()
    kept = [w for w, t in zip(words, bm25_tokenize(words), strict=True) if not (set(t) & tokens)]
    return " ".join(kept)


def _reference_list(hit: Hit) -> bool:
    """Return whether a passage is part of a reference list: it names other works and says
    nothing of its own, so it ranks below every passage that may answer."""
    return bool(REFERENCE_LIST.match(hit.passage.section or ""))


def _scan(index: SearchIndex) -> tuple[set[str], list[tuple[str, str, int]]]:
    """Return the sentences printed on BOILERPLATE_PAGES or more pages: running text such as
    footers, slogans and disclaimers, which never answer; and where each section starts,
    (document, head noun of its heading, row). Skipped for very large indexes."""
    if index.size > BOILERPLATE_SCAN:
        return set(), []
    pages: dict[str, set[tuple[str, int]]] = {}
    sections: list[tuple[str, str, int]] = []
    last: tuple[str, str | None] | None = None
    titles = {doc_id: normalise(d.entry.title) for doc_id, d in index.meta.documents.items()}
    for row in range(index.size):
        passage = index.passage(row)
        for start, end in sentence_spans(passage.text):
            key = normalise(passage.text[start:end])
            if key:
                pages.setdefault(key, set()).add((passage.doc_id, page_at(passage, start)))
        # (A heading that is the document's title, or part of it, names the document.)
        if (
            (passage.doc_id, passage.section) != last
            and passage.section
            and normalise(passage.section) not in titles[passage.doc_id]
        ):
            sections.append((passage.doc_id, head_noun(passage.section), row))
        last = (passage.doc_id, passage.section)
    boilerplate = {key for key, where in pages.items() if len(where) >= BOILERPLATE_PAGES}
    return boilerplate, sections


def _superseded(hit: Hit) -> bool:
    return hit.document.entry.superseded_by is not None


def _demote_superseded(hits: list[Hit]) -> list[Hit]:
    """Return hits with each superseded one moved below current ones that match it nearly as well."""
    ordered = list(hits)
    for hit in [h for h in hits if _superseded(h)]:
        at = ordered.index(hit)
        floor = (hit.dense_score or 0.0) - NEAR_EQUAL
        rivals = [
            j
            for j in range(at + 1, len(ordered))
            if not _superseded(ordered[j]) and (ordered[j].dense_score or 0.0) >= floor
        ]
        if rivals:
            ordered.insert(rivals[-1], ordered.pop(at))
    return ordered


def _page_facts(
    settings: Settings, documents: dict[str, IndexedDocument]
) -> tuple[dict[str, dict[int, str]], dict[str, list[tuple[int, int, str]]], dict[str, list[str]]]:
    """Return, per document, the printed labels of pages whose label differs from their number,
    its headings in order, (page, level, words), and its tables' captions (words)."""
    labels: dict[str, dict[int, str]] = {}
    headings: dict[str, list[tuple[int, int, str]]] = {}
    captions: dict[str, list[str]] = {}
    for doc_id, document in documents.items():
        record = load_ingest_record(settings, doc_id)
        if record is None or record.sha256 != document.sha256:
            continue  # pages re-extracted from other bytes since this index was built
        pages = load_pages(settings, doc_id)
        labels[doc_id] = {
            page.number: page.label
            for page in pages
            if page.label and page.label != str(page.number)
        }
        headings[doc_id] = [
            (page.number, heading.level, normalise(heading.text))
            for page in pages
            for heading in page.headings
        ]
        captions[doc_id] = [
            normalise(line)
            for page in pages
            for line in page.text.splitlines()
            if TABLE_CAPTION.match(line.strip())
        ]
    return labels, headings, captions


def _local_files(settings: Settings, documents: dict[str, IndexedDocument]) -> dict[str, Path]:
    """Return the cached file of each document whose cached bytes are the ones indexed."""
    files: dict[str, Path] = {}
    for doc_id, document in documents.items():
        record = load_record(settings, doc_id)
        path = cached_path(settings, document.entry)
        if record is not None and record.sha256 == document.sha256 and path.is_file():
            files[doc_id] = path
    return files


def _missing_years(question: str, hits: list[Hit]) -> list[str]:
    """Return the years the question names ("the 2023 survey") that the top passages, their
    documents' titles and publication dates never mention."""
    named = sorted(set(QUESTION_YEAR.findall(question)))
    if not named:
        return []
    evidence = " ".join(
        f"{hit.document.entry.title} {hit.document.entry.published:%Y} {hit.passage.text}"
        for hit in hits[:EVIDENCE_DEPTH]
    )
    return [year for year in named if not re.search(rf"\b{year}\b", evidence)]


# The kinds of question whose answer must give a figure, and what the message calls it.
_WANTED = {AnswerKind.date: "date", AnswerKind.number: "number"}
# The words that ask rather than say what about (BM25's stop words keep them): "what", "how
# many", "does", "should"...
_ASKING = frozenset(
    bm25_tokenize(
        [
            "what which who whom whose when where why how do does did done is are was were be "
            "been being will would should could can may might must shall has have had having "
            "many much there their they we our us you your i me my any some"
        ]
    )[0]
)


def _reason(question: str, unknown: list[str], missing: list[str], *, wanted: str = "") -> str:
    """Return why the evidence does not answer, as the not-covered message says it: the years
    and names the evidence never mentions, the specialist words no indexed passage uses, the
    date or number (`wanted`) the best answer would not give."""
    reasons = []
    if missing:
        reasons.append(f"the passages found never mention {_either(missing)}")
    if wanted:
        reasons.append(f"the passages that match best give no {wanted} for it")
    if unknown:
        spelled: dict[str, str] = {}  # as the question spells them
        for word in SPECIALIST_WORD.findall(question):
            spelled.setdefault(word.casefold(), word)
        words = _both([f"“{spelled.get(word, word)}”" for word in unknown])
        reasons.append(
            f"no indexed passage uses {'the word' if len(unknown) == 1 else 'the words'} {words}"
        )
    if not reasons:
        reasons.append("no passage found matches it closely enough to quote")
    return "; ".join(reasons) + "."


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _both(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'’-]*")
NAME_JOINER = re.compile(r"\s+(?:and|for|of|&)(?:\s+the)?\s+")


def _initials(name: str) -> str:
    """Return a name's initials, small words left out: "Transformation Partners in Health and
    Care" -> "TPHC", "Getting It Right First Time" -> "GIRFT"; an abbreviation in it stays
    whole: "NHS England" -> "NHSE"."""
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", name)
    return "".join(
        w if w.isupper() else w[0].upper() for w in words if w.lower() not in _SMALL_WORDS
    )


_SMALL_WORDS = frozenset({"in", "and", "of", "for", "the", "to", "a", "an", "on", "at", "by"})


def _singular(tokens: list[str]) -> str:
    """Return tokens joined by spaces with a final "s" cut: the stemmer leaves abbreviations
    as they are, so "CCGs" would not match "CCG"."""
    return " ".join(t[:-1] if t.endswith("s") and len(t) > 2 else t for t in tokens)


def _names(question: str) -> list[str]:
    """Return what a question names, as it spells them: runs of its words after the first that
    start with a capital or mix letters and digits ("HSCN", "Microsoft", "18-week", "NHS Long
    Term Workforce Plan"), possessives cut ("HEE's"). Capitalised words joined by "and", "for"
    or "of" make one name ("Agenda for Change", "State of the Nation"); an abbreviation is a
    name of its own ("NHS", "CCG and CSU").
    Not bare numbers or years (years have their own rule), nor words the keyword index drops
    ("I")."""
    runs: list[list[str]] = []
    last_end = -1
    for position, match in enumerate(NAME.finditer(question)):
        word = re.sub(r"['’]s?$", "", match.group()).strip("-")
        named = (
            position > 0
            and any(c.isalpha() for c in word)
            and (word[0].isupper() or any(c.isdigit() for c in word))
            and bool(bm25_tokenize([word])[0])
        )
        if not named:
            continue
        gap = question[last_end : match.start()]
        # (An abbreviation stands alone: "NHS Long Term Workforce Plan" names the plan, and
        # "CCG and CSU" two bodies.)
        joins = (
            runs
            and not runs[-1][-1].isupper()
            and not word.isupper()
            and (not gap.strip() or NAME_JOINER.fullmatch(gap))
        )
        if joins:
            runs[-1] += [gap.strip(), word] if gap.strip() else [word]
        else:
            runs.append([word])
        last_end = match.start() + len(match.group())
    return list(dict.fromkeys(" ".join(run) for run in runs))


def _specialist_words(question: str) -> list[str]:
    """Return the question's words rarer than SPECIALIST_ZIPF in everyday English."""
    from wordfreq import zipf_frequency  # imports in ~0.15 s: only when asked

    # The "small" list holds the words down to Zipf 3, the cut: it loads in ~10 ms, where the
    # default list takes ~200 ms.
    words = dict.fromkeys(w.casefold() for w in SPECIALIST_WORD.findall(question))
    return [w for w in words if zipf_frequency(w, "en", wordlist="small") < SPECIALIST_ZIPF]


def _cover_bonus(sentence: Sentence) -> float:
    """Return a cover sentence's bonus for a publication-date question (DATED_COVER_BONUS)."""
    if sentence.hit.passage.first_page > 2 or sentence.role not in ("label", "prose"):
        return 0.0
    if kind_strength(sentence.text, AnswerKind.date) == 2:
        return DATED_COVER_BONUS
    return PUBLICATION_BONUS if sentence.role == "label" else 0.0


def _shared_start(first: list[str], second: list[str]) -> int:
    """Return how many words two word lists share at their start."""
    shared = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        shared += 1
    return shared


def _unnumbered(words: str) -> list[str]:
    """Return a normalised heading's words without its section number ("6 1 priorities ...")."""
    split = words.split()
    # (and a caption's label: "table 6c 1 ...")
    while split and (any(c.isdigit() for c in split[0]) or split[0] in ("table", "figure")):
        split.pop(0)
    return split
