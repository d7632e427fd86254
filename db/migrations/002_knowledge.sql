-- Runbook knowledge base: an inverted index of jieba/word tokens for BM25 ranking in SQL, and the
-- state of the embedder that produced the stored vectors.
-- PostgreSQL's ts_rank has no inverse document frequency, which matters a lot for short symptom
-- queries ("MDGW" must weigh more than "失败"), so the full-text side keeps term statistics itself.

ALTER TABLE runbook_chunks ADD COLUMN doc_len real NOT NULL DEFAULT 0;
ALTER TABLE runbooks ADD COLUMN doc_len real NOT NULL DEFAULT 0;

-- Postings: one row per term and chunk. The chunk's and the runbook's lengths are copied in so a
-- query reads postings only, without joining the chunks.
CREATE TABLE runbook_terms (
  term        text NOT NULL,
  chunk_id    text NOT NULL REFERENCES runbook_chunks (id) ON DELETE CASCADE,
  runbook_id  text NOT NULL,
  tf          real NOT NULL,
  chunk_len   real NOT NULL,
  runbook_len real NOT NULL,
  PRIMARY KEY (term, chunk_id)
);
CREATE INDEX runbook_terms_chunk_idx ON runbook_terms (chunk_id);

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
