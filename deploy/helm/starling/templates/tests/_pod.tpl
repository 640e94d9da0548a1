{{/*
A helm test pod: mosquitto_sub waits (QoS 1) on a topic of its own at "sub", mosquitto_pub publishes
to it at "pub" once a second until the subscriber has the message, or 30 s have passed.
(dict "root" $ "name" "..." "sub" "host" "pub" "host" "what" "...")
*/}}
{{- define "starling.testPod" -}}
{{- $ := .root -}}
{{- $tls := not $.Values.listeners.tcp.enabled -}}
{{- $port := ternary $.Values.listeners.tls.port $.Values.listeners.tcp.port $tls -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "starling.fullname" $ }}-test-{{ .name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    # Not the StatefulSet's selector: the NetworkPolicy keeps test pods off the cluster ports.
    app.kubernetes.io/name: {{ include "starling.name" $ }}-test
    app.kubernetes.io/instance: {{ $.Release.Name }}
    app.kubernetes.io/component: test
    app.kubernetes.io/managed-by: {{ $.Release.Service }}
    helm.sh/chart: {{ include "starling.chart" $ }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 1883
    runAsGroup: 1883
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: mqtt
      image: {{ printf "%s:%s" $.Values.tests.image.repository $.Values.tests.image.tag }}
      imagePullPolicy: {{ $.Values.tests.image.pullPolicy }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      env:
        - name: SUB_HOST
          value: {{ .sub | quote }}
        - name: PUB_HOST
          value: {{ .pub | quote }}
        - name: MQTT_PORT
          value: {{ $port | quote }}
        {{- if $tls }}
        - name: MQTT_TLS
          value: "--cafile /etc/starling/tls/ca.crt --insecure"
        {{- end }}
        {{- if $.Values.auth.enabled }}
        - name: MQTT_USERNAME
          valueFrom:
            secretKeyRef:
              name: {{ include "starling.fullname" $ }}-test-credentials
              key: username
        - name: MQTT_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ include "starling.fullname" $ }}-test-credentials
              key: password
        {{- end }}
      command: ["/bin/sh", "-c"]
      args:
        - |
          set -u
          # {{ .what }}
          topic="starling-test/{{ .name }}/$(hostname)/$$"
          auth=""
          if [ -n "${MQTT_USERNAME:-}" ]; then auth="-u $MQTT_USERNAME -P $MQTT_PASSWORD"; fi
          mosquitto_sub -h "$SUB_HOST" -p "$MQTT_PORT" ${MQTT_TLS:-} $auth -i "test-sub-$$" -t "$topic" -q 1 -C 1 -W 30 > /tmp/received &
          sub=$!
          for i in $(seq 30); do
            kill -0 "$sub" 2>/dev/null || break
            mosquitto_pub -h "$PUB_HOST" -p "$MQTT_PORT" ${MQTT_TLS:-} $auth -i "test-pub-$$" -t "$topic" -q 1 -m "hello from helm test $i" || echo "publish $i failed"
            sleep 1
          done
          wait "$sub"; rc=$?
          echo "subscriber exited $rc, received: $(cat /tmp/received)"
          [ "$rc" -eq 0 ] && grep -q "hello from helm test" /tmp/received
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $tls }}
        - name: tls
          mountPath: /etc/starling/tls
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if $tls }}
    - name: tls
      secret:
        secretName: {{ include "starling.tlsSecretName" $ }}
        items:
          - key: ca.crt
            path: ca.crt
    {{- end }}
{{- end -}}
