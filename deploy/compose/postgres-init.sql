-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d):
-- the demo legacy database "crm" with the tables examples/pipeline.compose.yaml names, and the
-- key-map database of id-translation. The change-capture DDL is not here: the compose service
-- "init" installs it with `sync-ctl schema --apply`, as an operator would.
CREATE DATABASE crm;
CREATE DATABASE keymap;

\connect crm

CREATE TABLE users (
  id         bigint PRIMARY KEY,
  name       text NOT NULL,
  email      text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id         bigint PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  total      numeric(12, 2) NOT NULL,
  ordered_at timestamptz NOT NULL DEFAULT now()
);
