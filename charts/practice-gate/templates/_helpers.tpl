{{/* Names are cut to 63 characters: the limit of a DNS label (Service names). */}}
{{- define "practice-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "practice-gate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "practice-gate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "practice-gate.labels" -}}
helm.sh/chart: {{ include "practice-gate.chart" . }}
app.kubernetes.io/name: {{ include "practice-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The webhook pods. The component label keeps the `helm test` pod out of this selector:
the PodDisruptionBudget must match the Deployment's pods and nothing else.
*/}}
{{- define "practice-gate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "practice-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "practice-gate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "practice-gate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Cluster-scoped and namespaced objects share the full name; one release per name. */}}
{{- define "practice-gate.webhookConfigName" -}}
{{- include "practice-gate.fullname" . }}
{{- end }}

{{- define "practice-gate.tlsSecretName" -}}
{{- printf "%s-tls" (include "practice-gate.fullname" .) }}
{{- end }}

{{/* The names the API server may use for the Service: the serving certificate covers all. */}}
{{- define "practice-gate.dnsNames" -}}
{{- $svc := include "practice-gate.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/* repository:tag, or repository:tag@digest when a digest is given. */}}
{{- define "practice-gate.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Lease that elects the one replica running the cluster audit. */}}
{{- define "practice-gate.leaseName" -}}
{{- printf "%s-audit" (include "practice-gate.fullname" .) }}
{{- end }}

{{/*
The restricted security context every container of this chart runs with: it passes
practice-gate's own policies and the "restricted" Pod Security Standard.
*/}}
{{/*
The securityContexts: podSecurityContext / containerSecurityContext from the values (helm
merges an override into them key by key; null removes a key), plus the uid and gid unless
they are null (platforms such as OpenShift assign them) or the override names its own.
*/}}
{{- define "practice-gate.podSecurityContext" -}}
{{- $context := deepCopy (.Values.podSecurityContext | default dict) -}}
{{- include "practice-gate.ids" (list $context .Values) -}}
{{- if and (not (kindIs "invalid" .Values.runAsGroup)) (not (hasKey $context "fsGroup")) }}{{- $_ := set $context "fsGroup" .Values.runAsGroup -}}{{- end -}}
{{- toYaml $context -}}
{{- end }}

{{- define "practice-gate.containerSecurityContext" -}}
{{- $context := deepCopy (.Values.containerSecurityContext | default dict) -}}
{{- include "practice-gate.ids" (list $context .Values) -}}
{{- toYaml $context -}}
{{- end }}

{{- define "practice-gate.ids" -}}
{{- $context := index . 0 -}}
{{- $values := index . 1 -}}
{{- range $key := list "runAsUser" "runAsGroup" -}}
{{- $id := index $values $key -}}
{{- if and (not (kindIs "invalid" $id)) (not (hasKey $context $key)) }}{{- $_ := set $context $key $id -}}{{- end -}}
{{- end -}}
{{- end }}
