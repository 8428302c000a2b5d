-- The data of the peer benchmark (bench/peers/run.sh), loaded into the tables the generated app created
-- (it migrates at its first start). Deterministic: random() is seeded, rows are inserted in a fixed
-- order, and ids come from each table's identity column, which starts at the entity's own range of ent's
-- global ids (generator/entschema.go, incrementStarts), so the app's node(id) resolves them.
--
--   50 users        owners of the customers (the app's signed-in user "bench" is an extra one)
--   10,000 customers  grade A–D at random (about 2,500 grade A), each owned by one of the users
--   50,000 opportunities  each of a random customer; title, amount, stage at random; created_at all
--                   distinct (a permutation of 10-minute steps), so "the 5 latest" has one answer
SELECT setseed(0.20261204);

INSERT INTO users (username, display_name, email, active, created_at, updated_at)
SELECT 'owner' || lpad(i::text, 2, '0'),
	(ARRAY['Ada', 'Bo', 'Chen', 'Dana', 'Eli', 'Fang', 'Gil', 'Hana', 'Ivo', 'Jun'])[1 + (i - 1) % 10] || ' '
		|| (ARRAY['Li', 'Wang', 'Zhang', 'Liu', 'Chen'])[1 + (i - 1) / 10],
	'owner' || i || '@example.com', true, timestamptz '2023-01-01 00:00:00+00', timestamptz '2023-01-01 00:00:00+00'
FROM generate_series(1, 50) AS i
ORDER BY i;

INSERT INTO customers (name, grade, owner_id, created_at, updated_at)
WITH owners AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE username LIKE 'owner%')
SELECT (ARRAY['Apex', 'Blue', 'Cedar', 'Delta', 'Eagle', 'Fortune', 'Golden', 'Harbor', 'Iron', 'Jade',
		'Kite', 'Lotus', 'Maple', 'North', 'Orient', 'Pine', 'Quantum', 'River', 'Summit', 'Tiger'])[1 + floor(random() * 20)::int]
		|| ' ' || (ARRAY['Trading', 'Logistics', 'Foods', 'Motors', 'Textiles', 'Pharma', 'Energy', 'Media'])[1 + floor(random() * 8)::int]
		|| ' ' || lpad(i::text, 5, '0'),
	(ARRAY['A', 'B', 'C', 'D'])[1 + floor(random() * 4)::int],
	owners.ids[1 + floor(random() * 50)::int],
	timestamptz '2023-01-01 00:00:00+00' + i * interval '1 minute',
	timestamptz '2023-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, 10000) AS i, owners
ORDER BY i;

INSERT INTO opportunities (title, amount, stage, created_at, updated_at, customer_id)
WITH customer_ids AS (SELECT array_agg(id ORDER BY id) AS ids FROM customers)
SELECT (ARRAY['Renewal', 'Upgrade', 'New line', 'Pilot', 'Expansion', 'Service plan'])[1 + floor(random() * 6)::int] || ' #' || i,
	round((random() * 100000)::numeric, 2),
	(ARRAY['lead', 'qualified', 'proposal', 'won', 'lost'])[1 + floor(random() * 5)::int],
	timestamptz '2024-01-01 00:00:00+00' + ((i * 617) % 50000) * interval '10 minutes',
	timestamptz '2024-01-01 00:00:00+00' + ((i * 617) % 50000) * interval '10 minutes',
	customer_ids.ids[1 + floor(random() * 10000)::int]
FROM generate_series(1, 50000) AS i, customer_ids
ORDER BY i;

VACUUM ANALYZE users;
VACUUM ANALYZE customers;
VACUUM ANALYZE opportunities;
