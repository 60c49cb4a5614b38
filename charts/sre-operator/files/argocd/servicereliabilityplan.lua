-- Argo CD health of a reliability.dev ServiceReliabilityPlan: Ready is Healthy, an invalid spec is Degraded,
-- anything else (not yet reconciled, a failed apply being retried) is Progressing.
local hs = {status = "Progressing", message = "Waiting for sre-operator to reconcile this plan"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  return hs
end
local valid, ready = nil, nil
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Valid" then valid = condition end
  if condition.type == "Ready" then ready = condition end
end
if valid ~= nil and valid.status == "False" then
  hs.status = "Degraded"
  hs.message = valid.message or "The plan is invalid"
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
elseif ready ~= nil then
  hs.message = ready.message or hs.message
end
return hs
