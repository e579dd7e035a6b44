-- did 'Product Viewed' where category = 'skincare' at least 2 times in last 30 days
SELECT
  "t0"."profile_id"
FROM (
  SELECT
    *
  FROM "memory"."main"."base" AS "t1"
  WHERE
    COALESCE(
      "t1"."profile_id" IN (
        SELECT
          "t2"."profile_id"
        FROM (
          SELECT
            "t3"."profile_id",
            COUNT(*) AS "n"
          FROM (
            SELECT
              *
            FROM "memory"."main"."events" AS "t4"
            WHERE
              "t4"."event" = 'Product Viewed'
              AND COALESCE(
                CASE
                  WHEN COALESCE(
                    REGEXP_MATCHES(
                      REGEXP_REPLACE(
                        REGEXP_REPLACE(
                          REGEXP_REPLACE("t4"."properties", '\[[^\[\]]*\]', '0', 'g'),
                          ':\s*\{[^{}]*\}',
                          ':0',
                          'g'
                        ),
                        ':\s*\{[^{}]*\}',
                        ':0',
                        'g'
                      ),
                      '[{,]\s*"category"\s*:\s*"((?:[^"\\]|\\.)*)"'
                    ),
                    FALSE
                  )
                  THEN REGEXP_EXTRACT(
                    REGEXP_REPLACE(
                      REGEXP_REPLACE(
                        REGEXP_REPLACE("t4"."properties", '\[[^\[\]]*\]', '0', 'g'),
                        ':\s*\{[^{}]*\}',
                        ':0',
                        'g'
                      ),
                      ':\s*\{[^{}]*\}',
                      ':0',
                      'g'
                    ),
                    '[{,]\s*"category"\s*:\s*"((?:[^"\\]|\\.)*)"',
                    1
                  )
                  ELSE CAST(NULL AS TEXT)
                END = 'skincare',
                FALSE
              )
              AND "t4"."timestamp" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 12, 0, 0.0, 'UTC')
              AND "t4"."timestamp" > MAKE_TIMESTAMPTZ(2024, 5, 31, 12, 0, 0.0, 'UTC')
          ) AS "t3"
          GROUP BY
            1
        ) AS "t2"
        WHERE
          "t2"."n" >= 2 AND "t2"."profile_id" IS NOT NULL
      ),
      FALSE
    )
) AS "t0"
