-- Runbook knowledge base: an inverted index of jieba/word tokens for BM25 ranking in SQL, and the
-- state of the embedder that produced the stored vectors.
-- PostgreSQL's ts_rank has no inverse document frequency, which matters a lot for short symptom
-- queries ("MDGW" must weigh more than "失败"), so the full-text side keeps term frequencies itself.

ALTER TABLE runbook_chunks ADD COLUMN doc_len real NOT NULL DEFAULT 0;

CREATE TABLE runbook_terms (
  term      text NOT NULL,
  chunk_id  text NOT NULL REFERENCES runbook_chunks (id) ON DELETE CASCADE,
  tf        real NOT NULL,
  PRIMARY KEY (term, chunk_id)
);
CREATE INDEX runbook_terms_chunk_idx ON runbook_terms (chunk_id);

-- embedder name and dimension of the stored vectors; corpus statistics for BM25.
CREATE TABLE kb_meta (
  key    text PRIMARY KEY,
  value  text NOT NULL
);
