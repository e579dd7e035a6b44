-- bought category 'skincare' but not category 'makeup' in last 90 days
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
        FROM `memory`.`main`.`purchases` AS `t2`
        WHERE
          `t2`.`ordered_at` <= CAST('2024-06-30T12:00:00+00:00' AS TIMESTAMP)
          AND `t2`.`ordered_at` > CAST('2024-04-01T12:00:00+00:00' AS TIMESTAMP)
          AND NOT (
            COALESCE(`t2`.`is_return`, FALSE)
          )
          AND `t2`.`category` = 'skincare'
          AND `t2`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
    AND NOT (
      COALESCE(
        `t1`.`profile_id` IN (
          SELECT
            `t2`.`profile_id`
          FROM `memory`.`main`.`purchases` AS `t2`
          WHERE
            `t2`.`ordered_at` <= CAST('2024-06-30T12:00:00+00:00' AS TIMESTAMP)
            AND `t2`.`ordered_at` > CAST('2024-04-01T12:00:00+00:00' AS TIMESTAMP)
            AND NOT (
              COALESCE(`t2`.`is_return`, FALSE)
            )
            AND `t2`.`category` = 'makeup'
            AND `t2`.`profile_id` IS NOT NULL
        ),
        FALSE
      )
    )
) AS `t0`
