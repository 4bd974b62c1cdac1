-- The sample legacy database of the demo: a CRM whose users table also holds the address, and
-- orders pointing at users. 200 users and 300 orders to start with.
CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text,
  street text,
  city text,
  zip text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  user_id int NOT NULL REFERENCES users (id),
  total numeric(10, 2) NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (name, email, street, city, zip)
SELECT 'Customer ' || g, 'customer' || g || '@example.org', g || ' Legacy Lane', (ARRAY['Springfield', 'Shelbyville', 'Ogdenville'])[1 + g % 3], lpad((g * 7)::text, 5, '0')
  FROM generate_series(1, 200) g;
INSERT INTO orders (user_id, total) SELECT 1 + (g * 13) % 200, round((g * 3.7)::numeric, 2) FROM generate_series(1, 300) g;
