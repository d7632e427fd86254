-- Runbook search reads BM25 weights precomputed at ingest (knowledge/term-index.ts): one row per term
-- with its postings packed as (int4 document number, float8 weight) entries, for chunks and for whole
-- runbooks, so a query reads one row per query term instead of every posting of those terms.
-- Document numbers index the id arrays in runbook_term_index_docs; kb_meta 'term_index' names the
-- build both belong to. Ingest rebuilds all three in the transaction that refreshes the statistics.
CREATE TABLE runbook_term_index (
  term      text PRIMARY KEY,
  chunks    bytea NOT NULL,
  runbooks  bytea NOT NULL
);

CREATE TABLE runbook_term_index_docs (
  kind  text PRIMARY KEY CHECK (kind IN ('c', 'r')),
  ids   text[] NOT NULL
);

-- A store ingested before this migration: build the index from its statistics now (the same
-- computation as buildTermIndex, k1 = 1.2, b = 0.75), so search works before the next ingest.
WITH k AS (SELECT max(value) FILTER (WHERE key = 'chunks')::float8 AS n,
                  coalesce(nullif(max(value) FILTER (WHERE key = 'avgdl')::float8, 0), 1) AS avgdl,
                  max(value) FILTER (WHERE key = 'runbooks')::float8 AS rn,
                  coalesce(nullif(max(value) FILTER (WHERE key = 'avgrl')::float8, 0), 1) AS avgrl
             FROM kb_meta),
     cn AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS no FROM runbook_chunks),
     rn AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS no FROM runbooks),
     c AS (SELECT t.term,
                  string_agg(int4send(cn.no) || float8send(
                    ln(1 + (k.n - s.df + 0.5) / (s.df + 0.5)) * t.tf * (1.2::float8 + 1)
                      / (t.tf + 1.2::float8 * (1 - 0.75::float8 + 0.75::float8 * t.chunk_len / k.avgdl))), ''::bytea ORDER BY cn.no) AS blob
             FROM runbook_terms t JOIN cn ON cn.id = t.chunk_id JOIN runbook_term_stats s USING (term) CROSS JOIN k
            GROUP BY t.term),
     r AS (SELECT p.term,
                  string_agg(int4send(rn.no) || float8send(
                    ln(1 + (k.rn - s.rdf + 0.5) / (s.rdf + 0.5)) * p.tf * (1.2::float8 + 1)
                      / (p.tf + 1.2::float8 * (1 - 0.75::float8 + 0.75::float8 * p.runbook_len / k.avgrl))), ''::bytea ORDER BY rn.no) AS blob
             FROM runbook_postings p JOIN rn ON rn.id = p.runbook_id JOIN runbook_term_stats s USING (term) CROSS JOIN k
            GROUP BY p.term)
INSERT INTO runbook_term_index (term, chunks, runbooks)
SELECT term, c.blob, r.blob FROM c JOIN r USING (term);

INSERT INTO runbook_term_index_docs (kind, ids)
SELECT 'c', coalesce(array_agg(id ORDER BY id), '{}') FROM runbook_chunks
UNION ALL
SELECT 'r', coalesce(array_agg(id ORDER BY id), '{}') FROM runbooks;

INSERT INTO kb_meta (key, value) SELECT 'term_index', gen_random_uuid()::text WHERE EXISTS (SELECT 1 FROM kb_meta WHERE key = 'chunks');
