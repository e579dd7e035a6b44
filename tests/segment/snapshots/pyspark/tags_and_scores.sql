-- tag('vip') and not tag('dormant') and score('clv_12m') > 500
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
        FROM `memory`.`main`.`tags` AS `t2`
        WHERE
          `t2`.`tag` = 'vip' AND `t2`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
    AND NOT (
      COALESCE(
        `t1`.`profile_id` IN (
          SELECT
            `t2`.`profile_id`
          FROM `memory`.`main`.`tags` AS `t2`
          WHERE
            `t2`.`tag` = 'dormant' AND `t2`.`profile_id` IS NOT NULL
        ),
        FALSE
      )
    )
    AND COALESCE(
      `t1`.`profile_id` IN (
        SELECT
          `t3`.`profile_id`
        FROM `memory`.`main`.`scores` AS `t3`
        WHERE
          `t3`.`score` = 'clv_12m'
          AND (
            `t3`.`value` IS NOT NULL AND NOT ISNAN(`t3`.`value`)
          )
          AND COALESCE(`t3`.`value` > 500.0, FALSE)
          AND `t3`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
) AS `t0`
