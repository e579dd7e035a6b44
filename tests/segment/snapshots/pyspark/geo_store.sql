-- within 5 km of store 'S001'
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
            `t3`.`latitude`,
            `t3`.`longitude`,
            `t4`.`_s_lat`,
            `t4`.`_s_lon`
          FROM (
            SELECT
              `t1`.`profile_id`,
              `t1`.`latitude`,
              `t1`.`longitude`
            FROM `memory`.`main`.`base` AS `t1`
          ) AS `t3`
          CROSS JOIN (
            SELECT
              `t5`.`latitude` AS `_s_lat`,
              `t5`.`longitude` AS `_s_lon`
            FROM `memory`.`main`.`stores` AS `t5`
            WHERE
              `t5`.`store_id` = 'S001'
          ) AS `t4`
        ) AS `t2`
        WHERE
          (
            ASIN(
              IF(
                SQRT(
                  (
                    POWER(SIN(RADIANS(`t2`.`_s_lat` - `t2`.`latitude`) / 2), 2)
                  ) + (
                    COS(RADIANS(`t2`.`latitude`)) * COS(RADIANS(`t2`.`_s_lat`)) * (
                      POWER(SIN(RADIANS(`t2`.`_s_lon` - `t2`.`longitude`) / 2), 2)
                    )
                  )
                ) IS NULL,
                SQRT(
                  (
                    POWER(SIN(RADIANS(`t2`.`_s_lat` - `t2`.`latitude`) / 2), 2)
                  ) + (
                    COS(RADIANS(`t2`.`latitude`)) * COS(RADIANS(`t2`.`_s_lat`)) * (
                      POWER(SIN(RADIANS(`t2`.`_s_lon` - `t2`.`longitude`) / 2), 2)
                    )
                  )
                ),
                LEAST(
                  1.0,
                  SQRT(
                    (
                      POWER(SIN(RADIANS(`t2`.`_s_lat` - `t2`.`latitude`) / 2), 2)
                    ) + (
                      COS(RADIANS(`t2`.`latitude`)) * COS(RADIANS(`t2`.`_s_lat`)) * (
                        POWER(SIN(RADIANS(`t2`.`_s_lon` - `t2`.`longitude`) / 2), 2)
                      )
                    )
                  )
                )
              )
            ) * 12742.0176
          ) <= 5.0
          AND `t2`.`profile_id` IS NOT NULL
      ),
      FALSE
    )
) AS `t0`
