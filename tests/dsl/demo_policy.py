"""The head of the small policies the language tests write — a points policy of 2024 and the
notice its quotes cite (the notice's text is not there: W130 where a test checks it) — and the
points method's last steps (`DEMO_SETTLED`)."""

DEMO_HEAD = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document notice "示例DRG付费细则"
  issuer "示例市医疗保障局"
  number "示例〔2024〕1号"
  date 2024-01-01
  status in_force
  text "notice.txt"

"""

#: The points method's last steps, after a policy's `case_points`: a coefficient of 1, the fund
#: budget's point value and each case's payment.
DEMO_SETTLED = """\
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget drg_fund "本期基金预算" : money
let point_value "点值" : point_value at all = drg_fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
"""
