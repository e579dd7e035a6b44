-- first did 'Order Completed' between '2024-01-01' and '2024-03-31'
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
            MIN(`t3`.`timestamp`) AS `t`
          FROM (
            SELECT
              *
            FROM `memory`.`main`.`events` AS `t4`
            WHERE
              `t4`.`event` = 'Order Completed'
              AND `t4`.`timestamp` <= CAST('2024-06-30T12:00:00+00:00' AS TIMESTAMP)
          ) AS `t3`
          GROUP BY
            1
        ) AS `t2`
        WHERE
          `t2`.`t` <= CAST('2024-06-30T12:00:00+00:00' AS TIMESTAMP)
          AND `t2`.`t` >= CAST('2024-01-01T00:00:00+00:00' AS TIMESTAMP)
          AND `t2`.`t` < CAST('2024-04-01T00:00:00+00:00' AS TIMESTAMP)
          AND `t2`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
) AS `t0`
