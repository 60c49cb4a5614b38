-- Argo CD health of a reliability.dev ErrorBudgetPolicy: valid is Healthy, invalid is Degraded.
local hs = {status = "Progressing", message = "Waiting for sre-operator to validate this policy"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Valid" then
    if condition.status == "True" then
      hs.status = "Healthy"
    elseif condition.status == "False" then
      hs.status = "Degraded"
    end
    hs.message = condition.message or ""
  end
end
return hs
