"""Create the seed example's API in an API Gateway endpoint (normally the local moto
server): MyDemoAPI, /mydemoresource, GET with a MOCK integration and method response
200 -- everything the integration response depends on, but not the integration
response itself, which is apigw-reconciler's job.

Usage: python3 scripts/seed_emulator.py ENDPOINT_URL
"""
import sys

import boto3

endpoint = sys.argv[1]
client = boto3.client(
    "apigateway",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
if any(api["name"] == "MyDemoAPI" for api in client.get_rest_apis()["items"]):
    print("MyDemoAPI already exists")
    sys.exit(0)
api = client.create_rest_api(name="MyDemoAPI", description="This is my API for demonstration purposes")
root = next(r for r in client.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
res = client.create_resource(restApiId=api["id"], parentId=root["id"], pathPart="mydemoresource")
client.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="GET", authorizationType="NONE")
client.put_integration(restApiId=api["id"], resourceId=res["id"], httpMethod="GET", type="MOCK")
client.put_method_response(restApiId=api["id"], resourceId=res["id"], httpMethod="GET", statusCode="200")
print(f"created MyDemoAPI ({api['id']}) with GET /mydemoresource, MOCK integration, method response 200")
