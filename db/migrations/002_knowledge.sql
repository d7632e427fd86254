-- Runbook knowledge base: an inverted index of jieba/word tokens for BM25 ranking in SQL, and the
-- state of the embedder that produced the stored vectors.
-- PostgreSQL's ts_rank has no inverse document frequency, which matters a lot for short symptom
-- queries ("MDGW" must weigh more than "失败"), so the full-text side keeps term statistics itself.

ALTER TABLE runbook_chunks ADD COLUMN doc_len real NOT NULL DEFAULT 0;
ALTER TABLE runbooks ADD COLUMN doc_len real NOT NULL DEFAULT 0;

-- Postings: one row per term and chunk, with the chunk's length copied in so a query reads
-- postings only, without joining the chunks.
CREATE TABLE runbook_terms (
  term        text NOT NULL,
  chunk_id    text NOT NULL REFERENCES runbook_chunks (id) ON DELETE CASCADE,
  tf          real NOT NULL,
  chunk_len   real NOT NULL,
  -- Covering: a query answers from the index alone (index-only scan) instead of fetching heap pages.
  PRIMARY KEY (term, chunk_id) INCLUDE (tf, chunk_len)
);
CREATE INDEX runbook_terms_chunk_idx ON runbook_terms (chunk_id);

-- Postings per runbook (term frequencies summed over its chunks), for whole-runbook BM25: a query
-- reads at most one row per runbook and term instead of every chunk posting.
CREATE TABLE runbook_postings (
  term        text NOT NULL,
  runbook_id  text NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
  tf          real NOT NULL,
  runbook_len real NOT NULL,
  PRIMARY KEY (term, runbook_id) INCLUDE (tf, runbook_len)
);
CREATE INDEX runbook_postings_runbook_idx ON runbook_postings (runbook_id);

-- Document frequency of each term over chunks (df) and over runbooks (rdf), rebuilt after ingest.
CREATE TABLE runbook_term_stats (
  term  text PRIMARY KEY,
  df    integer NOT NULL,
  rdf   integer NOT NULL
);

-- embedder name and dimension of the stored vectors; corpus sizes and average lengths for BM25.
CREATE TABLE kb_meta (
  key    text PRIMARY KEY,
  value  text NOT NULL
);
