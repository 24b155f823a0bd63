# A Job is imported by its namespace and name, NAMESPACE/NAME. This works for
# Jobs this provider created and for Jobs made by kubectl, Helm or any other
# tool.
terraform import planton_kubernetes_job.nightly_report reports/nightly-report

# A Job in one of the provider's named `clusters` is CLUSTER:NAMESPACE/NAME.
terraform import planton_kubernetes_job.nightly_report prod:reports/nightly-report
