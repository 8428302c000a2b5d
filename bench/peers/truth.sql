-- The ground truth of the peer benchmark's read query (bench/peers/run.sh), straight from SQL: the 50
-- grade-A customers by name, each with its owner's name and its 5 latest opportunities. Every server's
-- answer is compared with it (bench/peers/check.py) before any timing.
SELECT json_agg(customer ORDER BY n)
FROM (
	SELECT row_number() OVER (ORDER BY c.name) AS n,
		json_build_object(
			'name', c.name,
			'owner', CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('displayName', u.display_name) END,
			'opportunities', (
				SELECT coalesce(json_agg(json_build_object(
					'id', o.id, 'title', o.title, 'amount', o.amount, 'stage', o.stage, 'createdAt', o.created_at
				) ORDER BY o.created_at DESC, o.id DESC), '[]')
				FROM (SELECT * FROM opportunities o WHERE o.customer_id = c.id ORDER BY o.created_at DESC, o.id DESC LIMIT 5) o
			)
		) AS customer
	FROM customers c LEFT JOIN users u ON u.id = c.owner_id
	WHERE c.grade = 'A'
	ORDER BY c.name
	LIMIT 50
) page;
