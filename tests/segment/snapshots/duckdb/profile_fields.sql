-- gender = 'F' and age between 25 and 30 and city in ('Shanghai', 'Hangzhou')
SELECT
  "t0"."profile_id"
FROM "memory"."main"."base" AS "t0"
WHERE
  COALESCE("t0"."gender" = 'F', FALSE)
  AND COALESCE("t0"."age" BETWEEN 25 AND 30, FALSE)
  AND COALESCE("t0"."city" IN ('Shanghai', 'Hangzhou'), FALSE)
