-- Argo CD health of a reliability.dev ReleaseGate: Open is Healthy, Frozen holds the sync (Suspended),
-- Evaluating is Progressing, Invalid is Degraded. A gate in dry-run mode never holds a sync.
local hs = {}
if obj.status == nil or obj.status.state == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for sre-operator to decide this gate"
  return hs
end
local status = obj.status
if obj.metadata ~= nil and obj.metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for sre-operator to decide generation " .. tostring(obj.metadata.generation)
  return hs
end
local reason = status.reason or ""
if status.state == "Open" then
  hs.status = "Healthy"
elseif status.state == "Frozen" then
  if status.allowed == true then
    hs.status = "Healthy"
  else
    hs.status = "Suspended"
  end
elseif status.state == "Invalid" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = reason
return hs
