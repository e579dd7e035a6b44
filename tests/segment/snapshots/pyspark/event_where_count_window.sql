-- did 'Product Viewed' where category = 'skincare' at least 2 times in last 30 days
SELECT
  `t0`.`profile_id`
FROM (
  SELECT
    *
  FROM `memory`.`main`.`base` AS `t1`
  WHERE
    COALESCE(
      `t1`.`profile_id` IN (
        SELECT
          `t2`.`profile_id`
        FROM (
          SELECT
            `t3`.`profile_id`,
            COUNT(*) AS `n`
          FROM (
            SELECT
              *
            FROM `memory`.`main`.`events` AS `t4`
            WHERE
              `t4`.`event` = 'Product Viewed'
              AND COALESCE(
                IF(
                  COALESCE(
                    REGEXP_REPLACE(
                      REGEXP_REPLACE(
                        REGEXP_REPLACE(`t4`.`properties`, '\\[[^\\[\\]]*\\]', '0'),
                        ':\\s*\\{[^{}]*\\}',
                        ':0'
                      ),
                      ':\\s*\\{[^{}]*\\}',
                      ':0'
                    ) RLIKE '[{,]\\s*"category"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"',
                    FALSE
                  ),
                  REGEXP_EXTRACT(
                    REGEXP_REPLACE(
                      REGEXP_REPLACE(
                        REGEXP_REPLACE(`t4`.`properties`, '\\[[^\\[\\]]*\\]', '0'),
                        ':\\s*\\{[^{}]*\\}',
                        ':0'
                      ),
                      ':\\s*\\{[^{}]*\\}',
                      ':0'
                    ),
                    '[{,]\\s*"category"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"'
                  ),
                  CAST(NULL AS STRING)
                ) = 'skincare',
                FALSE
              )
              AND `t4`.`timestamp` <= CAST('2024-06-30T12:00:00+00:00' AS TIMESTAMP)
              AND `t4`.`timestamp` > CAST('2024-05-31T12:00:00+00:00' AS TIMESTAMP)
          ) AS `t3`
          GROUP BY
            1
        ) AS `t2`
        WHERE
          `t2`.`n` >= 2 AND `t2`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
) AS `t0`
