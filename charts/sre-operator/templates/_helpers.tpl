{{- define "sre-operator.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "sre-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sre-operator.labels" -}}
app.kubernetes.io/name: {{ include "sre-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sre-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sre-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sre-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sre-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Exactly the API calls the operator makes (sre_operator.k8s.client.PERMISSIONS; a test compares them). */}}
{{- define "sre-operator.rules" -}}
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
- apiGroups: [reliability.dev]
  resources: [servicereliabilityplans]
  verbs: [get, list, watch, patch]
- apiGroups: [reliability.dev]
  resources: [errorbudgetpolicies]
  verbs: [list, watch, patch]
- apiGroups: [reliability.dev]
  resources: [releasegates]
  verbs: [list, watch]
- apiGroups: [reliability.dev]
  resources: [servicereliabilityplans/status, errorbudgetpolicies/status, releasegates/status, incidents/status]
  verbs: [patch]
- apiGroups: [reliability.dev]
  resources: [incidents]
  verbs: [list, watch, create]
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules, alertmanagerconfigs]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [configmaps, secrets]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
- apiGroups: [apps]
  resources: [replicasets, controllerrevisions]
  verbs: [list]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, patch]
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [list, patch]
- apiGroups: [apps]
  resources: [statefulsets, daemonsets]
  verbs: [list]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [list]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list]
{{- if .Values.peering.enabled }}
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings, kopfpeerings]
  verbs: [get, list, watch, create, patch]
{{- end }}
{{- end -}}


{{- define "sre-operator.webhookSecret" -}}
{{ include "sre-operator.fullname" . }}-webhook-tls
{{- end -}}

{{- define "sre-operator.certManager" -}}
{{- if eq (toString .Values.webhook.certManager) "true" -}}true
{{- else if and (eq (toString .Values.webhook.certManager) "auto") (.Capabilities.APIVersions.Has "cert-manager.io/v1") -}}true
{{- end -}}
{{- end -}}

{{- define "sre-operator.templateChanged" -}}
request.operation == 'CREATE' || !has(object.spec.template) || !has(oldObject.spec.template) || object.spec.template != oldObject.spec.template
{{- end -}}
